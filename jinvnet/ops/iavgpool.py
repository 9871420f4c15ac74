"""Invertible average pooling `iAvgPool2d`: an orthogonal 2x2 Haar transform (seed 000).

Each 2x2 block of each channel, p = (p00, p01, p10, p11) (p_ab = x[2i + a, 2j + b]),
is mapped by the symmetric orthogonal matrix H (H = H^T = H^{-1}):

    H = 1/2 [[1,  1,  1,  1],     average  (2 x the 2x2 mean)
             [1, -1,  1, -1],     horizontal detail
             [1,  1, -1, -1],     vertical detail
             [1, -1, -1,  1]]     diagonal detail

    forward:  (..., h, w, c) -> (..., h/2, w/2, 4c),
              y[..., i, j, q * c + k] = sum_r H[q, r] p_r(i, j, k)
    inverse:  p = H y per block, then depth to space
    log|det| = 0 both ways (H is orthogonal).

The first c output channels are 2 x AvgPool2d(2) of the input, so a classifier that
reads them sees average pooling; the other 3c channels keep what pooling discards.
(Seed 000's reference scales the average by 1 and has log-det -log 4 per block; the
orthogonal scaling here keeps the map volume preserving.) The ops have no
parameters: `forward(x)` and `inverse(y)`.

Example (a doctest):

    >>> import jax, jax.numpy as jnp
    >>> x = jax.random.normal(jax.random.PRNGKey(0), (2, 4, 4, 3))
    >>> y, log_det = forward(x)                     # orthogonal: log-det 0
    >>> averages = x.reshape(2, 2, 2, 2, 2, 3).mean((2, 4))   # of each 2x2 window
    >>> y.shape, bool(jnp.allclose(y[..., :3], 2 * averages))
    ((2, 2, 2, 12), True)
    >>> bool(jnp.allclose(inverse(y)[0], x, atol=1e-6))
    True
"""

import jax
import jax.numpy as jnp

from jinvnet import _validation
from jinvnet.ops import squeeze

_NAME = "iavgpool"


def _haar(dtype: jnp.dtype) -> jax.Array:
    return 0.5 * jnp.array(
        [[1, 1, 1, 1], [1, -1, 1, -1], [1, 1, -1, -1], [1, -1, -1, 1]], dtype
    )


def _mix(x: jax.Array) -> jax.Array:
    """Applies H to the 4 offset blocks of the channel axis."""
    *rest, c4 = x.shape
    blocks = x.reshape(*rest, 4, c4 // 4)
    mixed = jnp.einsum(
        "qr,...rk->...qk", _haar(x.dtype), blocks, precision=jax.lax.Precision.HIGHEST
    )
    return mixed.reshape(x.shape)


def forward(x: jax.Array) -> tuple[jax.Array, jax.Array]:
    """Orthogonal Haar downsampling whose first c channels are 2 x the 2x2 average.

    Args:
      x: input of shape (..., height, width, channels), height and width even.

    Returns:
      y of shape (..., height / 2, width / 2, 4 * channels) and a zero log-det.

    Raises:
      ValueError: wrong rank, non-floating dtype, odd height or odd width.

    Examples:
      >>> import jax.numpy as jnp
      >>> x = jnp.array([[1.0, 2.0], [3.0, 6.0]]).reshape(1, 2, 2, 1)
      >>> forward(x)[0].ravel().tolist()  # [2 * mean, ...]
      [6.0, -2.0, -3.0, 1.0]
    """
    _validation.check_image(x, _NAME)
    _validation.check_divisible(x.shape[-3], 2, _NAME, "height")
    _validation.check_divisible(x.shape[-2], 2, _NAME, "width")
    y, log_det = squeeze.forward(x)
    return _mix(y), log_det


def inverse(y: jax.Array) -> tuple[jax.Array, jax.Array]:
    """Inverse Haar transform and depth to space; returns (x, 0)."""
    _validation.check_image(y, _NAME)
    _validation.check_divisible(y.shape[-1], 4, _NAME, "channels of the input")
    return squeeze.inverse(_mix(y))
