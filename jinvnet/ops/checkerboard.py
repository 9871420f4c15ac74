"""Checkerboard downsampling: 2x2 space to depth, grouped by checkerboard colour.

The "Checkerboard DS" rung of seed 000's path to invertibility (RealNVP's checkerboard
pattern, Dinh et al. 2017). With offsets (a, b) taken in the order
q = 0, 1, 2, 3 -> (0, 0), (1, 1), (0, 1), (1, 0):

    forward:  (..., h, w, c) -> (..., h/2, w/2, 4c),
              y[..., i, j, q * c + k] = x[..., 2i + a_q, 2j + b_q, k]
    inverse:  the transposed reshuffle
    log|det| = 0 both ways.

The first 2c output channels hold one colour of the checkerboard ((i + j) even), the
last 2c the other, so a channel-halving coupling after it uses RealNVP's checkerboard
mask. `squeeze` (also i-RevNet's downsampling) orders the offsets (0, 0), (0, 1),
(1, 0), (1, 1) instead; this op is that squeeze followed by a fixed channel-block
permutation. The ops have no parameters: `forward(x)` and `inverse(y)`.

Example (a doctest):

    >>> import jax.numpy as jnp
    >>> x = jnp.arange(16.0).reshape(1, 4, 4, 1)
    >>> y, log_det = forward(x)                     # (1, 2, 2, 4), a permutation
    >>> y.shape, float(log_det[0])
    ((1, 2, 2, 4), 0.0)
    >>> bool((inverse(y)[0] == x).all())
    True
"""

import jax
import jax.numpy as jnp

from jinvnet import _validation
from jinvnet.ops import squeeze

_NAME = "checkerboard"
# Squeeze's offset blocks (0, 0), (0, 1), (1, 0), (1, 1) taken in checkerboard order.
_ORDER = (0, 3, 1, 2)
_INVERSE_ORDER = (0, 2, 3, 1)


def _permute_blocks(x: jax.Array, order: tuple[int, ...]) -> jax.Array:
    *rest, c4 = x.shape
    blocks = x.reshape(*rest, 4, c4 // 4)
    return jnp.take(blocks, jnp.array(order), axis=-2).reshape(x.shape)


def forward(x: jax.Array) -> tuple[jax.Array, jax.Array]:
    """Space to depth in checkerboard order.

    Args:
      x: input of shape (..., height, width, channels), height and width even.

    Returns:
      y of shape (..., height / 2, width / 2, 4 * channels) and a zero log-det.

    Raises:
      ValueError: wrong rank, non-floating dtype, odd height or odd width.

    Examples:
      >>> import jax.numpy as jnp
      >>> x = jnp.arange(4.0).reshape(1, 2, 2, 1)  # [[0, 1], [2, 3]]
      >>> forward(x)[0].ravel().tolist()
      [0.0, 3.0, 1.0, 2.0]
    """
    _validation.check_image(x, _NAME)
    _validation.check_divisible(x.shape[-3], 2, _NAME, "height")
    _validation.check_divisible(x.shape[-2], 2, _NAME, "width")
    y, log_det = squeeze.forward(x)
    return _permute_blocks(y, _ORDER), log_det


def inverse(y: jax.Array) -> tuple[jax.Array, jax.Array]:
    """Depth to space: (..., h, w, 4c) -> (..., 2h, 2w, c); returns (x, 0)."""
    _validation.check_image(y, _NAME)
    _validation.check_divisible(y.shape[-1], 4, _NAME, "channels of the input")
    return squeeze.inverse(_permute_blocks(y, _INVERSE_ORDER))
