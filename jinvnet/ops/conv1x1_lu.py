"""Invertible 1x1 convolution with an LU-decomposed weight (Glow, Sec. 3.2).

Params: `Params(permutation, sign, lower, upper, log_scale)` for c channels:
permutation (c,) int and sign (c,) are fixed; lower, upper (c, c) and log_scale (c,)
are learned. The weight is

    W = P L (U + diag(sign * exp(log_scale))),

with P the row permutation (P M)[i] = M[permutation[i]], L = I + strict lower part of
`lower`, U = strict upper part of `upper`. Then

    forward:  y = W x per pixel,   log|det dy/dx| = height * width * sum(log_scale)
    inverse:  x = W^{-1} y per pixel (two triangular solves),
              log|det dx/dy| = -height * width * sum(log_scale)

Example (the dense weight and the trained entries):

    >>> import jax, jax.numpy as jnp
    >>> params = init(jax.random.PRNGKey(0), 3)   # a random rotation, factored
    >>> isinstance(params, Params), params.lower.shape
    (True, (3, 3))
    >>> w = weight(params)                        # W = P L U, (3, 3)
    >>> bool(jnp.allclose(w @ w.T, jnp.eye(3), atol=1e-5))
    True
    >>> mask = free_mask(params)                  # L's strict lower, U's strict upper
    >>> int(mask.lower.sum()), int(mask.upper.sum()), int(mask.log_scale.sum())
    (3, 3, 3)
    >>> bool(jnp.isclose(min_abs_diagonal(params), jnp.exp(params.log_scale).min()))
    True
"""

from typing import NamedTuple

import chex
import jax
import jax.numpy as jnp
import jax.scipy.linalg as jsl
import numpy as np

from jinvnet import _validation

_NAME = "conv1x1_lu"


class Params(NamedTuple):
    """LU parameters; `permutation` and `sign` are constants, not trained."""

    permutation: jax.Array
    sign: jax.Array
    lower: jax.Array
    upper: jax.Array
    log_scale: jax.Array


def init(key: chex.PRNGKey, channels: int, *, dtype: jnp.dtype = jnp.float32) -> Params:
    """LU factors of a random orthogonal matrix, so the layer starts as a rotation."""
    _validation.check_positive_int(channels, _NAME, "channels")
    _validation.check_dtype(dtype, _NAME, "parameter dtype")
    q, _ = jnp.linalg.qr(jax.random.normal(key, (channels, channels), dtype))
    p, lower, upper = jsl.lu(q)
    diag = jnp.diag(upper)
    return Params(
        permutation=jnp.argmax(p, axis=1).astype(jnp.int32),
        sign=jnp.sign(diag),
        lower=jnp.tril(lower, -1),
        upper=jnp.triu(upper, 1),
        log_scale=jnp.log(jnp.abs(diag)),
    )


def free_mask(params: Params) -> Params:
    """0/1 masks of the entries that are trained, shaped like the learned fields.

    `lower` is strictly lower and `upper` strictly upper triangular (the unit and
    exp(log_scale) diagonals are not stored there); `permutation` and `sign` are
    constants (None). Reads only shapes, so `jax.ShapeDtypeStruct`s do.
    """
    channels = params.log_scale.shape[-1]
    ones = np.ones((channels, channels))
    return Params(
        permutation=None,
        sign=None,
        lower=np.tril(ones, -1),
        upper=np.triu(ones, 1),
        log_scale=np.ones((channels,)),
    )


def _factors(params: Params) -> tuple[jax.Array, jax.Array]:
    channels = params.log_scale.shape[-1]
    eye = jnp.eye(channels, dtype=params.lower.dtype)
    lower = jnp.tril(params.lower, -1) + eye
    upper = jnp.triu(params.upper, 1) + jnp.diag(
        params.sign * jnp.exp(params.log_scale)
    )
    return lower, upper


def weight(params: Params) -> jax.Array:
    """The dense (channels, channels) weight W = P L U."""
    lower, upper = _factors(params)
    return jnp.matmul(lower, upper, precision=jax.lax.Precision.HIGHEST)[
        params.permutation
    ]


def _check(params: Params, x: jax.Array) -> None:
    channels = params.log_scale.shape[-1]
    for what in ("lower", "upper"):
        _validation.check_square_matrix(getattr(params, what), _NAME, what, channels)
    _validation.check_params(params, _NAME)
    _validation.check_image(x, _NAME, channels=channels)


def _log_det(params: Params, x: jax.Array) -> jax.Array:
    height, width = x.shape[-3], x.shape[-2]
    log_det = height * width * jnp.sum(params.log_scale)
    return jnp.broadcast_to(log_det, _validation.event_batch_shape(x)).astype(x.dtype)


def forward(params: Params, x: jax.Array) -> tuple[jax.Array, jax.Array]:
    """Y = W x at every pixel.

    Args:
      params: `Params` for c channels.
      x: input of shape (..., height, width, c).

    Returns:
      y of the shape of x, and log|det dy/dx| of the batch shape.

    Raises:
      ValueError: wrong rank, non-floating dtype or channel mismatch.

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
        "...c,dc->...d", x, weight(params), precision=jax.lax.Precision.HIGHEST
    )
    return y, _log_det(params, x)


def inverse(params: Params, y: jax.Array) -> tuple[jax.Array, jax.Array]:
    """X = U^{-1} L^{-1} P^T y at every pixel; returns (x, log|det dx/dy|)."""
    _check(params, y)
    lower, upper = _factors(params)
    channels = params.log_scale.shape[-1]
    # W^{-1} = U^{-1} L^{-1} P^T, built once per parameter set (c x c); the
    # columns of (LU)^{-1} P^T are those of (LU)^{-1} taken in `permutation` order.
    eye = jnp.eye(channels, dtype=lower.dtype)
    l_inv = jsl.solve_triangular(lower, eye, lower=True, unit_diagonal=True)
    w_inv = jsl.solve_triangular(upper, l_inv, lower=False)[:, params.permutation]
    x = jnp.einsum("...c,dc->...d", y, w_inv, precision=jax.lax.Precision.HIGHEST)
    return x, -_log_det(params, y)


def min_abs_diagonal(params: Params) -> jax.Array:
    """min_c |U_cc| = min exp(log_scale); the weight is singular as it reaches 0."""
    return jnp.min(jnp.exp(params.log_scale))
