"""Additive coupling bijector (NICE / RevNet)."""

from jinvnet.bijectors._op_bijector import OpBijector
from jinvnet.ops import additive_coupling


class AdditiveCoupling(OpBijector):
    """Additive coupling bijector (NICE / RevNet).

    With [x_a, x_b] the channel halves and t = NN(x_a): y = [x_a, x_b + t],
    log|det| = 0; x_b = y_b - t(y_a) (`jinvnet.ops.additive_coupling`). Event shape
    (height, width, channels).

    Examples:
      >>> import jax, jax.numpy as jnp
      >>> from jinvnet import ops
      >>> key = jax.random.PRNGKey(0)
      >>> bijector = AdditiveCoupling(ops.additive_coupling.init(key, 4))
      >>> x = jax.random.normal(jax.random.PRNGKey(1), (2, 8, 8, 4))
      >>> y, log_det = bijector.forward_and_log_det(x)
      >>> log_det.shape, bool(jnp.allclose(bijector.inverse(y), x, atol=1e-4))
      ((2,), True)
    """

    keeps_shape = True

    def __init__(self, params: additive_coupling.Params):
        super().__init__(additive_coupling, params, is_constant_jacobian=False)
