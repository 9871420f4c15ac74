"""CInC invertible k x k convolution (Nagar et al. 2021, CInC Flow)."""

from jinvnet.bijectors._op_bijector import OpBijector
from jinvnet.ops import cinc


class CInCConv(OpBijector):
    """CInC convolution with top-left padding and a triangular centre tap.

    y[i, j] = sum_{a, b < k} K[a, b]^T @ x[i + a - k + 1, j + b - k + 1] (zero
    outside the image; K in HWIO layout), with the centre tap's (out, in) matrix
    A = K[k-1, k-1]^T lower triangular and diag(A) = exp(log_diag):
    log|det| = H W sum(log_diag); the inverse is back substitution in raster
    order, x[i, j] = A^{-1}(y[i, j] - other taps), by one of `cinc.METHODS`
    (`jinvnet.ops.cinc`). Event shape (height, width, channels).
    `params.log_diag = None` gives the unit-diagonal variant.

    Args:
      params: `cinc.Params`.
      method: inverse solver, one of `cinc.METHODS` (default "fast").

    Examples:
      >>> import jax, jax.numpy as jnp
      >>> from jinvnet import ops
      >>> key = jax.random.PRNGKey(0)
      >>> bijector = CInCConv(ops.cinc.init(key, 4))
      >>> x = jax.random.normal(jax.random.PRNGKey(1), (2, 8, 8, 4))
      >>> y, log_det = bijector.forward_and_log_det(x)
      >>> log_det.shape, bool(jnp.allclose(bijector.inverse(y), x, atol=1e-4))
      ((2,), True)
    """

    keeps_shape = True

    def __init__(self, params: cinc.Params, method: str = "fast"):
        super().__init__(cinc.with_method(method), params, is_constant_jacobian=True)
        self.method = method
