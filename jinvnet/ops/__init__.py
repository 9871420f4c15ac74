"""Pure invertible transforms on arrays.

Every module exposes `forward(params, x) -> (y, log_det)` and
`inverse(params, y) -> (x, log_det)` (parameter-free ones drop `params`), with images
of shape (..., height, width, channels) and log-dets of the batch shape.
"""

from jinvnet.ops import actnorm
from jinvnet.ops import additive_coupling
from jinvnet.ops import affine_coupling
from jinvnet.ops import conv1x1
from jinvnet.ops import conv1x1_lu
from jinvnet.ops import conv_net
from jinvnet.ops import coupling
from jinvnet.ops import permute
from jinvnet.ops import sneaky_relu
from jinvnet.ops import squeeze

__all__ = [
    "actnorm",
    "additive_coupling",
    "affine_coupling",
    "conv1x1",
    "conv1x1_lu",
    "conv_net",
    "coupling",
    "permute",
    "sneaky_relu",
    "squeeze",
]
