"""Split-prior bijector: the multi-scale split with a learned conditional prior."""

from jinvnet.bijectors._op_bijector import OpBijector
from jinvnet.ops import split_prior


class SplitPrior(OpBijector):
    """Whitens the factored-out half by its conditional Gaussian prior (Glow split).

    With x = [z1, z2] along channels and [mu, log_sigma] = NN(z1): y = [z1,
    (z2 - mu) exp(-log_sigma)], log|det| = -sum log_sigma; z2 = y2 exp(log_sigma)
    + mu (`jinvnet.ops.split_prior`). Event shape (height, width, channels).

    Examples:
      >>> import jax, jax.numpy as jnp
      >>> from jinvnet import ops
      >>> bijector = SplitPrior(ops.split_prior.init(jax.random.PRNGKey(0), 4))
      >>> x = jax.random.normal(jax.random.PRNGKey(1), (2, 4, 4, 4))
      >>> y, log_det = bijector.forward_and_log_det(x)
      >>> bool(jnp.allclose(bijector.inverse(y), x, atol=1e-6)), log_det.shape
      (True, (2,))
    """

    keeps_shape = True

    def __init__(self, params: split_prior.Params):
        super().__init__(split_prior, params, is_constant_jacobian=False)
