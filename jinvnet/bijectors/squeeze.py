"""Squeeze bijector: 2x2 space to depth (RealNVP / Glow)."""

from jinvnet.bijectors._op_bijector import OpBijector
from jinvnet.ops import squeeze


class Squeeze(OpBijector):
    """Squeeze: (..., h, w, c) -> (..., h/2, w/2, 4c), log-det 0.

    y[i, j, (2a + b) c + k] = x[2i + a, 2j + b, k] (`jinvnet.ops.squeeze`).
    `distrax.Inverse(Squeeze())` unsqueezes.

    Examples:
      >>> import jax.numpy as jnp
      >>> x = jnp.arange(16.0).reshape(1, 4, 4, 1)
      >>> y = Squeeze().forward(x)
      >>> y.shape, bool((Squeeze().inverse(y) == x).all())
      ((1, 2, 2, 4), True)
    """

    def __init__(self):
        super().__init__(squeeze, is_constant_jacobian=True)
