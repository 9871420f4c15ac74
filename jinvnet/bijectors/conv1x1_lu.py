"""Invertible 1x1 convolution with an LU-decomposed weight (Glow)."""

from jinvnet.bijectors._op_bijector import OpBijector
from jinvnet.ops import conv1x1_lu


class Conv1x1LU(OpBijector):
    """Invertible 1x1 convolution with an LU-decomposed weight (Glow).

    Per pixel y = W x with W = P L (U + diag(sign * exp(log_scale))), log|det| =
    H W sum(log_scale); x = W^{-1} y by two triangular solves
    (`jinvnet.ops.conv1x1_lu`). Event shape (height, width, channels).
    """

    def __init__(self, params: conv1x1_lu.Params):
        super().__init__(conv1x1_lu, params, is_constant_jacobian=True)
