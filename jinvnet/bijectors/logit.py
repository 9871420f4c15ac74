"""Logit-transform bijector for dequantised pixels (RealNVP)."""

from jinvnet.bijectors._op_bijector import OpBijector
from jinvnet.ops import logit


class Logit(OpBijector):
    """Y = logit(alpha + (1 - 2 alpha)(x + 1/2)) elementwise, for x in [-1/2, 1/2).

    log|det dy/dx| = sum [log(1 - 2 alpha) - log p - log(1 - p)] with
    p = alpha + (1 - 2 alpha)(x + 1/2); the inverse is p = sigmoid(y),
    x = (p - alpha) / (1 - 2 alpha) - 1/2 (`jinvnet.ops.logit`). Event shape
    (height, width, channels).

    Examples:
      >>> import jax.numpy as jnp
      >>> from jinvnet import ops
      >>> bijector = Logit(ops.logit.init(alpha=1e-6))
      >>> x = jnp.linspace(-0.4, 0.4, 4).reshape(1, 2, 2, 1)
      >>> y, log_det = bijector.forward_and_log_det(x)
      >>> bool(jnp.allclose(bijector.inverse(y), x, atol=1e-6)), log_det.shape
      (True, (1,))
    """

    keeps_shape = True

    def __init__(self, params: logit.Params):
        super().__init__(logit, params, is_constant_jacobian=False)
