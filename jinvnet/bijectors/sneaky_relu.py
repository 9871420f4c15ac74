"""SneakyReLU bijector: smooth invertible LeakyReLU (seed 000)."""

from jinvnet.bijectors._op_bijector import OpBijector
from jinvnet.ops import sneaky_relu


class SneakyReLU(OpBijector):
    """SneakyReLU bijector: smooth invertible LeakyReLU (seed 000).

    Elementwise y = (x + alpha (sqrt(1 + x^2) - 1)) / (1 + alpha) with
    alpha = (1 - s) / (1 + s) for the slope s > 0, log|det| = sum log[(1 + alpha x /
    sqrt(1 + x^2)) / (1 + alpha)]; the inverse is the increasing root of a
    quadratic (`jinvnet.ops.sneaky_relu`). Event shape (height, width, channels).

    Examples:
      >>> import jax, jax.numpy as jnp
      >>> from jinvnet import ops
      >>> key = jax.random.PRNGKey(0)
      >>> bijector = SneakyReLU(ops.sneaky_relu.init(0.1))
      >>> x = jax.random.normal(jax.random.PRNGKey(1), (2, 8, 8, 4))
      >>> y, log_det = bijector.forward_and_log_det(x)
      >>> log_det.shape, bool(jnp.allclose(bijector.inverse(y), x, atol=1e-4))
      ((2,), True)
    """

    keeps_shape = True

    def __init__(self, params: sneaky_relu.Params):
        super().__init__(sneaky_relu, params, is_constant_jacobian=False)
