"""SneakyReLU, the smooth bijective LeakyReLU of seed 000 (Finzi et al. 2019).

Params: `Params(slope)`, the slope s > 0 as x -> -inf (a scalar, or one per channel),
alpha = (1 - s) / (1 + s) in (-1, 1). Elementwise:

    forward:  y = (x + alpha (sqrt(1 + x^2) - 1)) / (1 + alpha)
    log|det dy/dx| = sum log[(1 + alpha x / sqrt(1 + x^2)) / (1 + alpha)]
    inverse:  with u = (1 + alpha) y + alpha,
              x = (u - alpha sqrt(u^2 + 1 - alpha^2)) / (1 - alpha^2)
    log|det dx/dy| = -log|det dy/dx| at x = inverse(y)

(the inverse solves the quadratic (1 - alpha^2) x^2 - 2 u x + u^2 - alpha^2 = 0 for the
root on the increasing branch). s = 1 is the identity; s -> 0 approaches a smoothed
ReLU.

Example (a per-channel slope, as Params by hand):

    >>> import jax.numpy as jnp
    >>> params = Params(slope=jnp.array([0.5, 2.0]))
    >>> x = jnp.array([[-1.0, -1.0], [1.0, 1.0]]).reshape(1, 1, 2, 2)
    >>> y, _ = forward(params, x)
    >>> bool(jnp.allclose(inverse(params, y)[0], x, atol=1e-6))
    True
"""

from typing import NamedTuple

import jax
import jax.numpy as jnp

from jinvnet import _validation

_NAME = "sneaky_relu"


class Params(NamedTuple):
    """Negative-side slope s > 0, of shape () or (channels,)."""

    slope: jax.Array


def init(slope: float = 0.1, dtype: jnp.dtype = jnp.float32) -> Params:
    """A scalar slope; raises if it is not positive."""
    if not slope > 0:
        raise ValueError(f"{_NAME}: slope must be positive, got {slope}")
    _validation.check_dtype(dtype, _NAME, "parameter dtype")
    return Params(slope=jnp.asarray(slope, dtype))


def _alpha(params: Params, x: jax.Array) -> jax.Array:
    channels = jnp.shape(params.slope)
    _validation.check_params(params, _NAME)
    _validation.check_image(x, _NAME, channels=channels[0] if channels else None)
    return (1.0 - params.slope) / (1.0 + params.slope)


def _log_derivative(alpha: jax.Array, x: jax.Array) -> jax.Array:
    return jnp.log1p(alpha * x / jnp.sqrt(1.0 + x * x)) - jnp.log1p(alpha)


def forward(params: Params, x: jax.Array) -> tuple[jax.Array, jax.Array]:
    """Elementwise SneakyReLU.

    Args:
      params: `Params` with a positive slope.
      x: input of shape (..., height, width, channels).

    Returns:
      y of the shape of x, and log|det dy/dx| of the batch shape.

    Raises:
      ValueError: wrong rank, non-floating dtype, channel mismatch.

    Examples:
      >>> import jax.numpy as jnp
      >>> x = jnp.array([-3.0, 0.0, 2.0]).reshape(1, 1, 3, 1)
      >>> y, _ = forward(init(0.5), x)
      >>> x_back, _ = inverse(init(0.5), y)
      >>> bool(jnp.allclose(x_back, x, rtol=0, atol=1e-6 * jnp.abs(x).max()))
      True
    """
    alpha = _alpha(params, x)
    y = (x + alpha * (jnp.sqrt(1.0 + x * x) - 1.0)) / (1.0 + alpha)
    log_det = jnp.sum(_log_derivative(alpha, x), axis=(-3, -2, -1))
    return y, log_det


def inverse(params: Params, y: jax.Array) -> tuple[jax.Array, jax.Array]:
    """Closed-form inverse; returns (x, log|det dx/dy|)."""
    alpha = _alpha(params, y)
    u = (1.0 + alpha) * y + alpha
    x = (u - alpha * jnp.sqrt(u * u + 1.0 - alpha * alpha)) / (1.0 - alpha * alpha)
    log_det = -jnp.sum(_log_derivative(alpha, x), axis=(-3, -2, -1))
    return x, log_det
