"""Channel permutation bijector (reverse or fixed random)."""

import jax

from jinvnet.bijectors._op_bijector import OpBijector
from jinvnet.ops import permute


class Permute(OpBijector):
    """y[..., k] = x[..., permutation[k]], log-det 0.

    Build with `ops.permute.reverse(c)` or `ops.permute.init(key, c)`.

    Examples:
      >>> import jax, jax.numpy as jnp
      >>> from jinvnet import ops
      >>> key = jax.random.PRNGKey(0)
      >>> bijector = Permute(ops.permute.init(key, 4))
      >>> x = jax.random.normal(jax.random.PRNGKey(1), (2, 8, 8, 4))
      >>> y, log_det = bijector.forward_and_log_det(x)
      >>> log_det.shape, bool(jnp.allclose(bijector.inverse(y), x, atol=1e-4))
      ((2,), True)
    """

    keeps_shape = True

    def __init__(self, permutation: jax.Array):
        super().__init__(permute, permutation, is_constant_jacobian=True)
