"""Checkerboard affine coupling given fixed context features (Flow++ dequantiser)."""

from jinvnet.bijectors._op_bijector import OpBijector
from jinvnet.ops import conditional_coupling


class ConditionalCoupling(OpBijector):
    """Y = m x + (1 - m)(x exp(log s) + t) with (t, log s) from (m x, context).

    A bijector of x for the context held in `params` (Flow++, Ho et al. 2019,
    Sec. 3.1). log|det dy/dx| = sum (1 - m) log s; equations:
    `jinvnet.ops.conditional_coupling`. Event shape (height, width, channels).

    Args:
      params: `ops.conditional_coupling.Params` (conditioner and context).
      parity: the checkerboard mask keeps pixels with i + j + parity even
        (default 0).
    """

    def __init__(self, params: conditional_coupling.Params, *, parity: int = 0):
        super().__init__(
            conditional_coupling.with_parity(parity),
            params,
            is_constant_jacobian=False,
        )
