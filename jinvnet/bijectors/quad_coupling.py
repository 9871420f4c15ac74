"""Quad coupling bijector (CInC Flow, seed 001 Sec. 3.2)."""

from jinvnet.bijectors._op_bijector import OpBijector
from jinvnet.ops import quad_coupling


class QuadCoupling(OpBijector):
    """Four-block autoregressive affine coupling (CInC Flow).

    Equations: `jinvnet.ops.quad_coupling`. Event shape (height, width, channels),
    channels divisible by 4.
    """

    def __init__(self, params: quad_coupling.Params):
        super().__init__(quad_coupling, params, is_constant_jacobian=False)
