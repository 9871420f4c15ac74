"""Invertible 1x1 convolution with a dense channel-mixing matrix (Glow).

Params: `Params(weight)`, weight of shape (channels, channels).

    forward:  y[..., i, j, :] = W x[..., i, j, :]
    log|det dy/dx| = height * width * log|det W|
    inverse:  x[..., i, j, :] = W^{-1} y[..., i, j, :]
    log|det dx/dy| = -height * width * log|det W|

A singular W gives log|det| = -inf and a non-finite inverse; `condition_number`
reports how close W is to that.
"""

from typing import NamedTuple

import chex
import jax
import jax.numpy as jnp

from jinvnet import _validation

_NAME = "conv1x1"


class Params(NamedTuple):
    """Weight of shape (channels, channels)."""

    weight: jax.Array


def init(key: chex.PRNGKey, channels: int, *, dtype: jnp.dtype = jnp.float32) -> Params:
    """A random orthogonal weight (log|det W| = 0), as in Glow."""
    _validation.check_positive_int(channels, _NAME, "channels")
    _validation.check_dtype(dtype, _NAME, "parameter dtype")
    q, _ = jnp.linalg.qr(jax.random.normal(key, (channels, channels), dtype))
    return Params(weight=q)


def _check(params: Params, x: jax.Array) -> None:
    channels = params.weight.shape[-1]
    _validation.check_square_matrix(params.weight, _NAME, "weight", channels)
    _validation.check_params(params, _NAME)
    _validation.check_image(x, _NAME, channels=channels)


def _log_det(weight: jax.Array, x: jax.Array) -> jax.Array:
    height, width = x.shape[-3], x.shape[-2]
    log_det = height * width * jnp.linalg.slogdet(weight)[1]
    return jnp.broadcast_to(log_det, _validation.event_batch_shape(x)).astype(x.dtype)


def forward(params: Params, x: jax.Array) -> tuple[jax.Array, jax.Array]:
    """Y = W x at every pixel.

    Args:
      params: `Params` with weight of shape (channels, channels).
      x: input of shape (..., height, width, channels).

    Returns:
      y of the shape of x, and log|det dy/dx| of the batch shape.

    Raises:
      ValueError: wrong rank, non-floating dtype, non-square weight or channel
        mismatch.

    Examples:
      >>> import jax, jax.numpy as jnp
      >>> params = init(jax.random.PRNGKey(0), 4)
      >>> x = jax.random.normal(jax.random.PRNGKey(1), (2, 8, 8, 4))
      >>> y, log_det = forward(params, x)
      >>> x_back, inverse_log_det = inverse(params, y)
      >>> y.shape, log_det.shape
      ((2, 8, 8, 4), (2,))
      >>> bool(jnp.allclose(x_back, x, atol=1e-5))
      True
      >>> bool(jnp.allclose(inverse_log_det, -log_det, atol=1e-4))
      True
    """
    _check(params, x)
    y = jnp.einsum(
        "...c,dc->...d", x, params.weight, precision=jax.lax.Precision.HIGHEST
    )
    return y, _log_det(params.weight, x)


def inverse(params: Params, y: jax.Array) -> tuple[jax.Array, jax.Array]:
    """X = W^{-1} y at every pixel; returns (x, log|det dx/dy|)."""
    _check(params, y)
    weight_inv = jnp.linalg.inv(params.weight)
    x = jnp.einsum("...c,dc->...d", y, weight_inv, precision=jax.lax.Precision.HIGHEST)
    return x, -_log_det(params.weight, y)


def condition_number(params: Params) -> jax.Array:
    """sigma_max(W) / sigma_min(W); inf for a singular weight (the zero one too).

    A weight is singular when sigma_min <= c eps sigma_max (c channels, eps of the
    dtype): the SVD computes a singular matrix's zero singular value only up to
    that round-off (ones((2, 2)) gave sigma_min ~ 1e-8 in float32, a finite
    "condition number" of 1.5e8). NaN only if the weight has NaN entries.

    Examples:
      >>> import jax.numpy as jnp
      >>> float(condition_number(Params(jnp.diag(jnp.array([4.0, 2.0])))))
      2.0
      >>> float(condition_number(Params(jnp.zeros((2, 2)))))
      inf
    """
    s = jnp.linalg.svd(params.weight, compute_uv=False)
    eps = jnp.finfo(s.dtype).eps
    singular = s[-1] <= s.shape[-1] * eps * s[0]
    return jnp.where(singular, jnp.inf, s[0] / jnp.where(singular, 1, s[-1]))
