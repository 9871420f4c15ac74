"""Emerging k x k convolution (Hoogeboom et al. 2019)."""

from jinvnet.bijectors._op_bijector import OpBijector
from jinvnet.ops import emerging


class EmergingConv(OpBijector):
    """Emerging convolution: LU 1x1, then causal and anti-causal masked k x k.

    y = K2 ** (K1 * (W x)): an LU 1x1 W, a causal masked convolution K1 and an
    anti-causal one K2 ** x = flip(K2 * flip(x)), both with unit centre diagonals,
    so log|det| = H W sum(log_scale of W); the inverse solves K2, then K1, then W
    (`jinvnet.ops.emerging`). Event shape (height, width, channels).

    Args:
      params: `emerging.Params`.
      method: inverse solver, one of `emerging.METHODS` (default "fast").

    Examples:
      >>> import jax, jax.numpy as jnp
      >>> from jinvnet import ops
      >>> key = jax.random.PRNGKey(0)
      >>> bijector = EmergingConv(ops.emerging.init(key, 4))
      >>> x = jax.random.normal(jax.random.PRNGKey(1), (2, 8, 8, 4))
      >>> y, log_det = bijector.forward_and_log_det(x)
      >>> log_det.shape, bool(jnp.allclose(bijector.inverse(y), x, atol=1e-4))
      ((2,), True)
    """

    keeps_shape = True

    def __init__(self, params: emerging.Params, method: str = "fast"):
        super().__init__(
            emerging.with_method(method), params, is_constant_jacobian=True
        )
        self.method = method
