"""Emerging k x k convolution (Hoogeboom et al. 2019)."""

from jinvnet.bijectors._op_bijector import OpBijector
from jinvnet.ops import emerging


class EmergingConv(OpBijector):
    """Emerging convolution: LU 1x1, then causal and anti-causal masked k x k.

    Equations: `jinvnet.ops.emerging`. Event shape (height, width, channels).

    Args:
      params: `emerging.Params`.
      method: inverse solver, one of `emerging.METHODS` (default "fast").
    """

    def __init__(self, params: emerging.Params, method: str = "fast"):
        if method not in emerging.METHODS:
            raise ValueError(
                f"EmergingConv: method must be one of {emerging.METHODS}, "
                f"got {method!r}"
            )
        super().__init__(
            emerging,
            params,
            is_constant_jacobian=True,
            inverse_options={"method": method},
        )
        self.method = method
