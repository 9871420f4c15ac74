"""ActNorm bijector: per-channel affine normalisation (Glow)."""

from jinvnet.bijectors._op_bijector import OpBijector
from jinvnet.ops import actnorm


class ActNorm(OpBijector):
    """ActNorm bijector: per-channel affine normalisation (Glow).

    Per channel, y = (x + loc) * exp(log_scale), log|det| = H W sum(log_scale);
    x = y * exp(-log_scale) - loc (`jinvnet.ops.actnorm`). Event shape (height,
    width, channels).

    Examples:
      >>> import jax, jax.numpy as jnp
      >>> from jinvnet import ops
      >>> key = jax.random.PRNGKey(0)
      >>> bijector = ActNorm(ops.actnorm.init(4))
      >>> x = jax.random.normal(jax.random.PRNGKey(1), (2, 8, 8, 4))
      >>> y, log_det = bijector.forward_and_log_det(x)
      >>> log_det.shape, bool(jnp.allclose(bijector.inverse(y), x, atol=1e-4))
      ((2,), True)
    """

    keeps_shape = True

    def __init__(self, params: actnorm.Params):
        super().__init__(actnorm, params, is_constant_jacobian=True)
