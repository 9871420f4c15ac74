"""Invertible 1x1 convolution with a dense weight (Glow)."""

from jinvnet.bijectors._op_bijector import OpBijector
from jinvnet.ops import conv1x1


class Conv1x1(OpBijector):
    """Invertible 1x1 convolution with a dense weight (Glow).

    Per pixel y = W x, log|det| = H W log|det W|; x = W^{-1} y
    (`jinvnet.ops.conv1x1`). Event shape (height, width, channels).
    """

    def __init__(self, params: conv1x1.Params):
        super().__init__(conv1x1, params, is_constant_jacobian=True)
