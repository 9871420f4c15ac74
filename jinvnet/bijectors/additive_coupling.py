"""Additive coupling bijector (NICE / RevNet)."""

from jinvnet.bijectors._op_bijector import OpBijector
from jinvnet.ops import additive_coupling


class AdditiveCoupling(OpBijector):
    """Additive coupling bijector (NICE / RevNet).

    Equations: `jinvnet.ops.additive_coupling`. Event shape (height, width, channels).
    """

    def __init__(self, params: additive_coupling.Params):
        super().__init__(additive_coupling, params, is_constant_jacobian=False)
