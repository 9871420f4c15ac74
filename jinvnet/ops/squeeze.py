"""Squeeze: 2x2 space-to-depth (RealNVP / Glow), a permutation of the entries.

    forward:  (..., h, w, c) -> (..., h/2, w/2, 4c),
              y[..., i, j, (2a + b) * c + k] = x[..., 2i + a, 2j + b, k]
    inverse:  the transposed reshuffle (unsqueeze)
    log|det| = 0 both ways.

The ops have no parameters: `forward(x)` and `inverse(y)`.
"""

import jax
import jax.numpy as jnp

from jinvnet import _validation

_NAME = "squeeze"


def _zero_log_det(x: jax.Array) -> jax.Array:
    return jnp.zeros(_validation.event_batch_shape(x), x.dtype)


def forward(x: jax.Array) -> tuple[jax.Array, jax.Array]:
    """Space to depth.

    Args:
      x: input of shape (..., height, width, channels), height and width even.

    Returns:
      y of shape (..., height / 2, width / 2, 4 * channels) and a zero log-det.

    Raises:
      ValueError: wrong rank, non-floating dtype, odd height or odd width.

    Examples:
      >>> import jax.numpy as jnp
      >>> x = jnp.arange(16.0).reshape(1, 4, 4, 1)
      >>> y, _ = forward(x)
      >>> y.shape
      (1, 2, 2, 4)
      >>> bool((inverse(y)[0] == x).all())
      True
    """
    _validation.check_image(x, _NAME)
    *batch, h, w, c = x.shape
    _validation.check_divisible(h, 2, _NAME, "height")
    _validation.check_divisible(w, 2, _NAME, "width")
    y = x.reshape(*batch, h // 2, 2, w // 2, 2, c)
    n = len(batch)
    y = jnp.moveaxis(y, n + 1, n + 2)  # (..., h/2, w/2, 2, 2, c)
    return y.reshape(*batch, h // 2, w // 2, 4 * c), _zero_log_det(x)


def inverse(y: jax.Array) -> tuple[jax.Array, jax.Array]:
    """Depth to space: (..., h, w, 4c) -> (..., 2h, 2w, c); returns (x, 0)."""
    _validation.check_image(y, _NAME)
    *batch, h, w, c4 = y.shape
    _validation.check_divisible(c4, 4, _NAME, "channels of the squeezed input")
    c = c4 // 4
    x = y.reshape(*batch, h, w, 2, 2, c)
    n = len(batch)
    x = jnp.moveaxis(x, n + 2, n + 1)  # (..., h, 2, w, 2, c)
    return x.reshape(*batch, 2 * h, 2 * w, c), _zero_log_det(y)
