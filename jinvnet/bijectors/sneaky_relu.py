"""SneakyReLU bijector: smooth invertible LeakyReLU (seed 000)."""

from jinvnet.bijectors._op_bijector import OpBijector
from jinvnet.ops import sneaky_relu


class SneakyReLU(OpBijector):
    """SneakyReLU bijector: smooth invertible LeakyReLU (seed 000).

    Equations: `jinvnet.ops.sneaky_relu`. Event shape (height, width, channels).
    """

    def __init__(self, params: sneaky_relu.Params):
        super().__init__(sneaky_relu, params, is_constant_jacobian=False)
