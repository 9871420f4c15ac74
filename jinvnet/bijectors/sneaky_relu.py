"""SneakyReLU bijector: smooth invertible LeakyReLU (seed 000)."""

from jinvnet.bijectors._op_bijector import OpBijector
from jinvnet.ops import sneaky_relu


class SneakyReLU(OpBijector):
    """SneakyReLU bijector: smooth invertible LeakyReLU (seed 000).

    Elementwise y = (x + alpha (sqrt(1 + x^2) - 1)) / (1 + alpha) with
    alpha = (1 - s) / (1 + s) for the slope s > 0, log|det| = sum log[(1 + alpha x /
    sqrt(1 + x^2)) / (1 + alpha)]; the inverse is the increasing root of a
    quadratic (`jinvnet.ops.sneaky_relu`). Event shape (height, width, channels).
    """

    def __init__(self, params: sneaky_relu.Params):
        super().__init__(sneaky_relu, params, is_constant_jacobian=False)
