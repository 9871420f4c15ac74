"""Affine coupling with a sigmoid scale (RealNVP, Dinh et al. 2017; Glow).

With x = [x_a, x_b] split along channels (see `coupling`), the conditioner gives
[t, h] = NN(x_a) and the scale s = sigmoid(h + 2) lies in (0, 1), which keeps the
forward map contractive in x_b and its log-det bounded above:

    forward:  y_a = x_a,  y_b = (x_b + t) * s,
              log|det dy/dx| = sum log s = sum log_sigmoid(h + 2)
    inverse:  x_a = y_a,  x_b = y_b / s - t,   log|det dx/dy| = -sum log s

The inverse can explode where s is small (seed 004, Behrmann et al. 2021): a trained
MNIST flow's samples at temperature 1 overflowed through compounding couplings whose
1/s reached 10-180 (docs/results.md). `min_scale` = m in [0, 1) bounds the scale
from below, s = m + (1 - m) sigmoid(h + 2) in (m, 1), so each coupling's inverse
expands by at most 1/m; m = 0 (default) is Glow's sigmoid scale exactly.

Example (the scale's lower bound fixed once, as a `Block`):

    >>> import jax, jax.numpy as jnp
    >>> params = init(jax.random.PRNGKey(0), 4, hidden_channels=8)
    >>> block = with_min_scale(0.1)                 # s = 0.1 + 0.9 sigmoid(h + 2)
    >>> x = jax.random.normal(jax.random.PRNGKey(1), (2, 4, 4, 4))
    >>> y, log_det = block.forward(params, x)
    >>> x_back, inverse_log_det = block.inverse(params, y)
    >>> (bool(jnp.allclose(x_back, x, atol=1e-5)),
    ...  bool(jnp.allclose(inverse_log_det, -log_det)))
    (True, True)
"""

import functools

import chex
import jax
import jax.numpy as jnp

from jinvnet.ops import coupling
from jinvnet.ops.block import Block

_NAME = "affine_coupling"

Params = coupling.Params


def init(
    key: chex.PRNGKey,
    channels: int,
    *,
    hidden_channels: int = 64,
    hidden_init: str = "he_normal",
    dtype: jnp.dtype = jnp.float32,
) -> Params:
    """Zero output layer: t = 0 and s = sigmoid(2) at initialisation.

    `hidden_init` starts the conditioner's hidden layers (`conv_net.HIDDEN_INITS`).
    """
    return coupling.init(
        key,
        channels,
        outputs_per_channel=2,
        hidden_channels=hidden_channels,
        hidden_init=hidden_init,
        dtype=dtype,
    )


def _check_min_scale(min_scale: float) -> None:
    if not 0.0 <= min_scale < 1.0:
        raise ValueError(f"{_NAME}: min_scale must lie in [0, 1), got {min_scale}")


def _shift_and_log_scale(
    params: Params, x_a: jax.Array, min_scale: float
) -> tuple[jax.Array, jax.Array]:
    """Shift t and log s, s = m + (1 - m) sigmoid(h + 2) by log-sum-exp (m=0 exact)."""
    shift, raw_scale = coupling.conditioner_halves(params.net, x_a)
    log_scale = jax.nn.log_sigmoid(raw_scale + 2.0)
    if min_scale > 0:
        log_scale = jnp.logaddexp(
            jnp.log(min_scale), jnp.log1p(-min_scale) + log_scale
        ).astype(log_scale.dtype)
    return shift, log_scale


def forward(
    params: Params, x: jax.Array, *, min_scale: float = 0.0
) -> tuple[jax.Array, jax.Array]:
    """y_b = (x_b + t(x_a)) * s(x_a).

    Args:
      params: `coupling.Params` for c channels.
      x: input of shape (..., height, width, c).
      min_scale: lower bound m of the scale, in [0, 1) (default 0: Glow's scale).

    Returns:
      y of the shape of x, and log|det dy/dx| of the batch shape.

    Raises:
      ValueError: wrong rank, non-floating dtype, channel mismatch, c < 2 or
        min_scale outside [0, 1).

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
    _check_min_scale(min_scale)
    x_a, x_b = coupling.split(params, x, _NAME, 2)
    shift, log_scale = _shift_and_log_scale(params, x_a, min_scale)
    y_b = (x_b + shift) * jnp.exp(log_scale)
    return jnp.concatenate([x_a, y_b], axis=-1), coupling.sum_event(log_scale)


def inverse(
    params: Params, y: jax.Array, *, min_scale: float = 0.0
) -> tuple[jax.Array, jax.Array]:
    """x_b = y_b * exp(-log s) - t; returns (x, log|det dx/dy|)."""
    _check_min_scale(min_scale)
    y_a, y_b = coupling.split(params, y, _NAME, 2)
    shift, log_scale = _shift_and_log_scale(params, y_a, min_scale)
    x_b = y_b * jnp.exp(-log_scale) - shift
    return jnp.concatenate([y_a, x_b], axis=-1), -coupling.sum_event(log_scale)


def with_min_scale(min_scale: float = 0.0) -> Block:
    """`forward` and `inverse` with the scale's lower bound m fixed, as a `Block`.

    Raises:
      ValueError: m outside [0, 1).
    """
    _check_min_scale(min_scale)
    return Block(
        functools.partial(forward, min_scale=min_scale),
        functools.partial(inverse, min_scale=min_scale),
    )
