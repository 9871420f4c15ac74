"""Affine coupling bijector with a sigmoid scale (RealNVP / Glow)."""

from jinvnet.bijectors._op_bijector import OpBijector
from jinvnet.ops import affine_coupling


class AffineCoupling(OpBijector):
    """Affine coupling bijector with a sigmoid scale (RealNVP / Glow).

    Equations: `jinvnet.ops.affine_coupling`. Event shape (height, width, channels).
    """

    def __init__(self, params: affine_coupling.Params):
        super().__init__(affine_coupling, params, is_constant_jacobian=False)
