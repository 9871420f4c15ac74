"""The logit transform of dequantised pixels (RealNVP, Dinh et al. 2017, Sec. 4.1).

Pixels come from `jinvnet.data` scaled to x in [-1/2, 1/2) (`dequantization`). With
u = x + 1/2 in [0, 1) and a boundary alpha in [0, 1/2), elementwise:

    forward:  p = alpha + (1 - 2 alpha) u,   y = logit(p) = log p - log(1 - p)
    log|det dy/dx| = sum [log(1 - 2 alpha) - log p - log(1 - p)]
    inverse:  p = sigmoid(y),                x = (p - alpha) / (1 - 2 alpha) - 1/2
    log|det dx/dy| = sum [log p + log(1 - p) - log(1 - 2 alpha)]

The log-det is part of the flow's, so bits/dim (`data.bits_per_dim`) stays the
bits/dim of the discrete 8-bit data, comparable with the literature. alpha keeps
p away from 0 and 1 (RealNVP uses 0.05 on CIFAR-10; MAF and MintNet 1e-6 on MNIST).
Inputs outside the domain (p outside (0, 1)) give NaN, never a finite wrong value.

Params: `Params(alpha)`, a scalar; it is not trained.

Example (x in [-1/2, 1/2], the centred pixels, to logit space and back):

    >>> import jax.numpy as jnp
    >>> params = init(alpha=0.05)                   # a Params
    >>> x = jnp.array([-0.5, 0.0, 0.5]).reshape(1, 1, 3, 1)
    >>> y, _ = forward(params, x)          # logit(0.05), logit(0.5), logit(0.95)
    >>> [round(float(v), 4) for v in y.ravel()]
    [-2.9444, 0.0, 2.9444]
    >>> x_back, _ = inverse(params, y)
    >>> bool(jnp.allclose(x_back, x, atol=1e-6)), isinstance(params, Params)
    (True, True)
"""

from typing import NamedTuple

import jax
import jax.numpy as jnp

from jinvnet import _validation

_NAME = "logit"


class Params(NamedTuple):
    """The boundary alpha in [0, 1/2), a scalar."""

    alpha: jax.Array


def init(alpha: float = 1e-6, dtype: jnp.dtype = jnp.float32) -> Params:
    """A fixed boundary alpha; raises unless 0 <= alpha < 1/2.

    Examples:
      >>> float(init(0.05).alpha)
      0.05000000074505806
    """
    if not 0.0 <= alpha < 0.5:
        raise ValueError(f"{_NAME}: alpha must lie in [0, 1/2), got {alpha}")
    return Params(alpha=jnp.asarray(alpha, dtype))


def _sum_event(values: jax.Array) -> jax.Array:
    return jnp.sum(values, axis=(-3, -2, -1))


def forward(params: Params, x: jax.Array) -> tuple[jax.Array, jax.Array]:
    """Y = logit(alpha + (1 - 2 alpha)(x + 1/2)).

    Args:
      params: `Params` with a scalar alpha.
      x: pixels in [-1/2, 1/2) of shape (..., height, width, channels).

    Returns:
      y of the shape of x, and log|det dy/dx| of the batch shape.

    Raises:
      ValueError: wrong rank or non-floating dtype.

    Examples:
      >>> import jax.numpy as jnp
      >>> y, log_det = forward(init(0.0), jnp.zeros((1, 1, 1)))
      >>> float(y[0, 0, 0]), round(float(log_det), 6)  # logit(1/2); log 4
      (0.0, 1.386294)
    """
    _validation.check_image(x, _NAME)
    alpha = params.alpha.astype(x.dtype)
    p = alpha + (1.0 - 2.0 * alpha) * (x + 0.5)
    log_p, log_1mp = jnp.log(p), jnp.log1p(-p)
    log_det = _sum_event(jnp.log1p(-2.0 * alpha) - log_p - log_1mp)
    return log_p - log_1mp, log_det


def inverse(params: Params, y: jax.Array) -> tuple[jax.Array, jax.Array]:
    """X = (sigmoid(y) - alpha) / (1 - 2 alpha) - 1/2; returns (x, log|det dx/dy|)."""
    _validation.check_image(y, _NAME)
    alpha = params.alpha.astype(y.dtype)
    x = (jax.nn.sigmoid(y) - alpha) / (1.0 - 2.0 * alpha) - 0.5
    log_det = _sum_event(
        jax.nn.log_sigmoid(y) + jax.nn.log_sigmoid(-y) - jnp.log1p(-2.0 * alpha)
    )
    return x, log_det
