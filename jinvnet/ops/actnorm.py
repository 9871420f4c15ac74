"""Activation normalisation: a per-channel affine map (Kingma & Dhariwal 2018, Glow).

Params: `Params(loc, log_scale)`, both of shape (channels,).

    forward:  y = (x + loc) * exp(log_scale)
    log|det dy/dx| = height * width * sum_c log_scale[c]
    inverse:  x = y * exp(-log_scale) - loc
    log|det dx/dy| = -height * width * sum_c log_scale[c]

Example (Params by hand: add 1/2, then scale by 2):

    >>> import jax.numpy as jnp
    >>> params = Params(loc=jnp.full((3,), 0.5), log_scale=jnp.full((3,), jnp.log(2.0)))
    >>> y, log_det = forward(params, jnp.ones((1, 2, 2, 3)))   # y = (x + loc) * scale
    >>> float(y[0, 0, 0, 0]), round(float(log_det[0]), 4)       # 12 log 2
    (3.0, 8.3178)
"""

from typing import NamedTuple

import jax
import jax.numpy as jnp

from jinvnet import _validation

_NAME = "actnorm"


class Params(NamedTuple):
    """ActNorm parameters, each of shape (channels,)."""

    loc: jax.Array
    log_scale: jax.Array


def init(channels: int, *, dtype: jnp.dtype = jnp.float32) -> Params:
    """Identity parameters: loc = 0, log_scale = 0."""
    _validation.check_positive_int(channels, _NAME, "channels")
    _validation.check_dtype(dtype, _NAME, "parameter dtype")
    zeros = jnp.zeros((channels,), dtype)
    return Params(loc=zeros, log_scale=zeros)


def data_init(x: jax.Array, eps: float = 1e-6) -> Params:
    """Parameters that give every channel of `x` zero mean and unit variance.

    Args:
      x: a batch of shape (..., height, width, channels).
      eps: added to the standard deviation, so a constant channel stays finite.

    Returns:
      `Params` with loc = -mean(x) and log_scale = -log(std(x) + eps) per channel.

    Raises:
      ValueError: wrong rank or dtype; an empty batch; a NaN or inf in a concrete
        x (as at `model.init`). A traced x (under `jit`) cannot be checked: a
        non-finite value then gives NaN parameters, which `jinvnet.checked` or
        the finiteness of the first loss reports.

    Examples:
      >>> import jax, jax.numpy as jnp
      >>> x = 3.0 + 2.0 * jax.random.normal(jax.random.PRNGKey(0), (64, 4, 4, 2))
      >>> y, _ = forward(data_init(x), x)
      >>> bool(jnp.allclose(y.mean((0, 1, 2)), 0.0, atol=1e-5))
      True
    """
    _validation.check_image(x, _NAME)
    if x.size == 0:
        raise ValueError(
            f"{_NAME}: data-dependent init needs a non-empty batch, got input of "
            f"shape {tuple(x.shape)}"
        )
    bad = jnp.sum(~jnp.isfinite(x))
    if not isinstance(bad, jax.core.Tracer):  # checked where the values are known
        bad = int(bad)
        if bad:
            raise ValueError(
                f"{_NAME}: data-dependent init needs finite input, got {bad} "
                f"non-finite values of {x.size} in a batch of shape {tuple(x.shape)}; "
                "check the init batch and the layers before this ActNorm"
            )
    axes = tuple(range(x.ndim - 1))
    mean = jnp.mean(x, axis=axes)
    std = jnp.std(x, axis=axes)
    return Params(loc=-mean, log_scale=-jnp.log(std + eps))


def _log_det(params: Params, x: jax.Array) -> jax.Array:
    height, width = x.shape[-3], x.shape[-2]
    log_det = height * width * jnp.sum(params.log_scale)
    return jnp.broadcast_to(log_det, _validation.event_batch_shape(x)).astype(x.dtype)


def forward(params: Params, x: jax.Array) -> tuple[jax.Array, jax.Array]:
    """Y = (x + loc) * exp(log_scale).

    Args:
      params: `Params` of shape (channels,).
      x: input of shape (..., height, width, channels).

    Returns:
      y of the shape of x, and log|det dy/dx| of the batch shape.

    Raises:
      ValueError: wrong rank, non-floating dtype or channel mismatch.

    Examples:
      >>> import jax, jax.numpy as jnp
      >>> params = init(4)
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
    _validation.check_params(params, _NAME)
    _validation.check_image(x, _NAME, channels=params.loc.shape[-1])
    y = (x + params.loc) * jnp.exp(params.log_scale)
    return y, _log_det(params, x)


def inverse(params: Params, y: jax.Array) -> tuple[jax.Array, jax.Array]:
    """X = y * exp(-log_scale) - loc; returns (x, log|det dx/dy|)."""
    _validation.check_params(params, _NAME)
    _validation.check_image(y, _NAME, channels=params.loc.shape[-1])
    x = y * jnp.exp(-params.log_scale) - params.loc
    return x, -_log_det(params, y)
