"""Invertible 1x1 convolution with a dense weight (Glow)."""

from jinvnet.bijectors._op_bijector import OpBijector
from jinvnet.ops import conv1x1


class Conv1x1(OpBijector):
    """Invertible 1x1 convolution with a dense weight (Glow).

    Per pixel y = W x, log|det| = H W log|det W|; x = W^{-1} y
    (`jinvnet.ops.conv1x1`). Event shape (height, width, channels).

    Examples:
      >>> import jax, jax.numpy as jnp
      >>> from jinvnet import ops
      >>> key = jax.random.PRNGKey(0)
      >>> bijector = Conv1x1(ops.conv1x1.init(key, 4))
      >>> x = jax.random.normal(jax.random.PRNGKey(1), (2, 8, 8, 4))
      >>> y, log_det = bijector.forward_and_log_det(x)
      >>> log_det.shape, bool(jnp.allclose(bijector.inverse(y), x, atol=1e-4))
      ((2,), True)
    """

    keeps_shape = True

    def __init__(self, params: conv1x1.Params):
        super().__init__(conv1x1, params, is_constant_jacobian=True)
