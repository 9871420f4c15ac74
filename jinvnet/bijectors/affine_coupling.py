"""Affine coupling bijector with a sigmoid scale (RealNVP / Glow)."""

from jinvnet.bijectors._op_bijector import OpBijector
from jinvnet.ops import affine_coupling


class AffineCoupling(OpBijector):
    """Affine coupling bijector with a sigmoid scale (RealNVP / Glow).

    With [x_a, x_b] the channel halves and [t, h] = NN(x_a):
    y = [x_a, (x_b + t) * s], s = m + (1 - m) sigmoid(h + 2), log|det| = sum log s;
    m = `min_scale` in [0, 1) bounds the inverse's expansion 1/s by 1/m (0, the
    default, is Glow's scale); x_b = y_b / s - t (`jinvnet.ops.affine_coupling`).
    Event shape (height, width, channels).

    Examples:
      >>> import jax, jax.numpy as jnp
      >>> from jinvnet import ops
      >>> key = jax.random.PRNGKey(0)
      >>> bijector = AffineCoupling(ops.affine_coupling.init(key, 4))
      >>> x = jax.random.normal(jax.random.PRNGKey(1), (2, 8, 8, 4))
      >>> y, log_det = bijector.forward_and_log_det(x)
      >>> log_det.shape, bool(jnp.allclose(bijector.inverse(y), x, atol=1e-4))
      ((2,), True)
    """

    keeps_shape = True

    def __init__(self, params: affine_coupling.Params, *, min_scale: float = 0.0):
        super().__init__(affine_coupling.with_min_scale(min_scale), params)
