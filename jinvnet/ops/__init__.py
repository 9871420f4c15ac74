"""Pure invertible transforms on arrays.

Every module exposes `forward(params, x) -> (y, log_det)` and
`inverse(params, y) -> (x, log_det)` (parameter-free ones drop `params`), with images
of shape (..., height, width, channels) and log-dets of the batch shape.
"""

from jinvnet.ops import (
    actnorm,
    additive_coupling,
    affine_coupling,
    checkerboard,
    cinc,
    conv1x1,
    conv1x1_lu,
    conv_net,
    coupling,
    emerging,
    fft_conv,
    iavgpool,
    irevnet,
    mint,
    permute,
    quad_coupling,
    reversible_stack,
    revnet,
    sneaky_relu,
    split_prior,
    squeeze,
)

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
