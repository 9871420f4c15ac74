"""Channel permutation (RealNVP's reverse; Glow's fixed random shuffle).

Params: an integer array `permutation` of shape (channels,).

    forward:  y[..., k] = x[..., permutation[k]]
    inverse:  x[..., permutation[k]] = y[..., k]
    log|det| = 0 both ways.

Example (a doctest):

    >>> import jax.numpy as jnp
    >>> permutation = reverse(3)
    >>> permutation.tolist()
    [2, 1, 0]
    >>> y, _ = forward(permutation, jnp.arange(3.0).reshape(1, 1, 1, 3))
    >>> y.ravel().tolist(), inverse(permutation, y)[0].ravel().tolist()
    ([2.0, 1.0, 0.0], [0.0, 1.0, 2.0])
"""

import chex
import jax
import jax.numpy as jnp

from jinvnet import _validation

_NAME = "permute"


def reverse(channels: int) -> jax.Array:
    """The reversing permutation [c - 1, ..., 0]."""
    _validation.check_positive_int(channels, _NAME, "channels")
    return jnp.arange(channels - 1, -1, -1, dtype=jnp.int32)


def init(key: chex.PRNGKey, channels: int) -> jax.Array:
    """A uniformly random permutation of `channels` channels."""
    _validation.check_positive_int(channels, _NAME, "channels")
    return jax.random.permutation(key, channels).astype(jnp.int32)


def _check(permutation: jax.Array, x: jax.Array) -> None:
    if jnp.ndim(permutation) != 1 or not jnp.issubdtype(
        jnp.result_type(permutation), jnp.integer
    ):
        raise ValueError(
            f"{_NAME}: `permutation` must be a 1-D integer array, got shape "
            f"{jnp.shape(permutation)} and dtype {jnp.result_type(permutation)}"
        )
    _validation.check_image(x, _NAME, channels=permutation.shape[0])


def _zero_log_det(x: jax.Array) -> jax.Array:
    return jnp.zeros(_validation.event_batch_shape(x), x.dtype)


def forward(permutation: jax.Array, x: jax.Array) -> tuple[jax.Array, jax.Array]:
    """Y = x[..., permutation].

    Args:
      permutation: integer array of shape (channels,).
      x: input of shape (..., height, width, channels).

    Returns:
      y of the shape of x and a zero log-det of the batch shape.

    Raises:
      ValueError: wrong rank, non-floating dtype, channel mismatch.

    Examples:
      >>> import jax, jax.numpy as jnp
      >>> permutation = init(jax.random.PRNGKey(0), 4)
      >>> x = jax.random.normal(jax.random.PRNGKey(1), (2, 8, 8, 4))
      >>> y, log_det = forward(permutation, x)
      >>> x_back, inverse_log_det = inverse(permutation, y)
      >>> y.shape, log_det.shape
      ((2, 8, 8, 4), (2,))
      >>> bool(jnp.allclose(x_back, x, atol=1e-5))
      True
      >>> bool(jnp.allclose(inverse_log_det, -log_det, atol=1e-4))
      True
    """
    _check(permutation, x)
    return jnp.take(x, permutation, axis=-1), _zero_log_det(x)


def inverse(permutation: jax.Array, y: jax.Array) -> tuple[jax.Array, jax.Array]:
    """X = y[..., argsort(permutation)]; returns (x, 0)."""
    _check(permutation, y)
    return jnp.take(y, jnp.argsort(permutation), axis=-1), _zero_log_det(y)
