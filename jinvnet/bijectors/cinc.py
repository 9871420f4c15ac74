"""CInC invertible k x k convolution (Nagar et al. 2021, CInC Flow)."""

from jinvnet.bijectors._op_bijector import OpBijector
from jinvnet.ops import cinc


class CInCConv(OpBijector):
    """CInC convolution with top-left padding and a triangular centre tap.

    Equations and inverse methods: `jinvnet.ops.cinc`. Event shape (height,
    width, channels). `params.log_diag = None` gives the unit-diagonal variant.

    Args:
      params: `cinc.Params`.
      method: inverse solver, one of `cinc.METHODS` (default "fast").
    """

    def __init__(self, params: cinc.Params, method: str = "fast"):
        if method not in cinc.METHODS:
            raise ValueError(
                f"CInCConv: method must be one of {cinc.METHODS}, got {method!r}"
            )
        super().__init__(
            cinc, params, is_constant_jacobian=True, inverse_options={"method": method}
        )
        self.method = method
