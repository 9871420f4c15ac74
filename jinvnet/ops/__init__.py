"""Pure invertible transforms on arrays.

Every module exposes `forward(params, x) -> (y, log_det)` and
`inverse(params, y) -> (x, log_det)` (parameter-free ones drop `params`), with images
of shape (..., height, width, channels) and log-dets of the batch shape.
"""

from jinvnet.ops import actnorm
from jinvnet.ops import additive_coupling
from jinvnet.ops import affine_coupling
from jinvnet.ops import checkerboard
from jinvnet.ops import cinc
from jinvnet.ops import conv1x1
from jinvnet.ops import conv1x1_lu
from jinvnet.ops import conv_net
from jinvnet.ops import coupling
from jinvnet.ops import emerging
from jinvnet.ops import fft_conv
from jinvnet.ops import iavgpool
from jinvnet.ops import irevnet
from jinvnet.ops import mint
from jinvnet.ops import permute
from jinvnet.ops import quad_coupling
from jinvnet.ops import reversible_stack
from jinvnet.ops import revnet
from jinvnet.ops import sneaky_relu
from jinvnet.ops import split_prior
from jinvnet.ops import squeeze

__all__ = [
    "actnorm",
    "additive_coupling",
    "affine_coupling",
    "checkerboard",
    "cinc",
    "conv1x1",
    "conv1x1_lu",
    "conv_net",
    "coupling",
    "emerging",
    "fft_conv",
    "iavgpool",
    "irevnet",
    "mint",
    "permute",
    "quad_coupling",
    "reversible_stack",
    "revnet",
    "sneaky_relu",
    "split_prior",
    "squeeze",
]
