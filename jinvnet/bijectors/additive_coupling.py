"""Additive coupling bijector (NICE / RevNet)."""

from jinvnet.bijectors._op_bijector import OpBijector
from jinvnet.ops import additive_coupling


class AdditiveCoupling(OpBijector):
    """Additive coupling bijector (NICE / RevNet).

    With [x_a, x_b] the channel halves and t = NN(x_a): y = [x_a, x_b + t],
    log|det| = 0; x_b = y_b - t(y_a) (`jinvnet.ops.additive_coupling`). Event shape
    (height, width, channels).
    """

    def __init__(self, params: additive_coupling.Params):
        super().__init__(additive_coupling, params, is_constant_jacobian=False)
