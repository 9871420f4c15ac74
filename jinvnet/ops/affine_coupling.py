"""Affine coupling with a sigmoid scale (RealNVP, Dinh et al. 2017; Glow).

With x = [x_a, x_b] split along channels (see `coupling`), the conditioner gives
[t, h] = NN(x_a) and the scale s = sigmoid(h + 2) lies in (0, 1), which keeps the
forward map contractive in x_b and its log-det bounded above:

    forward:  y_a = x_a,  y_b = (x_b + t) * s,
              log|det dy/dx| = sum log s = sum log_sigmoid(h + 2)
    inverse:  x_a = y_a,  x_b = y_b / s - t,   log|det dx/dy| = -sum log s

The inverse can explode where s is small (seed 004, Behrmann et al. 2021).
"""

import chex
import jax
import jax.numpy as jnp

from jinvnet.ops import coupling

_NAME = "affine_coupling"

Params = coupling.Params


def init(
    key: chex.PRNGKey,
    channels: int,
    *,
    hidden_channels: int = 64,
    dtype: jnp.dtype = jnp.float32,
) -> Params:
    """Zero output layer: t = 0 and s = sigmoid(2) at initialisation."""
    return coupling.init(
        key,
        channels,
        outputs_per_channel=2,
        hidden_channels=hidden_channels,
        dtype=dtype,
    )


def _shift_and_log_scale(params: Params, x_a: jax.Array) -> tuple[jax.Array, jax.Array]:
    shift, raw_scale = coupling.conditioner_halves(params.net, x_a)
    return shift, jax.nn.log_sigmoid(raw_scale + 2.0)


def forward(params: Params, x: jax.Array) -> tuple[jax.Array, jax.Array]:
    """y_b = (x_b + t(x_a)) * s(x_a).

    Args:
      params: `coupling.Params` for c channels.
      x: input of shape (..., height, width, c).

    Returns:
      y of the shape of x, and log|det dy/dx| of the batch shape.

    Raises:
      ValueError: wrong rank, non-floating dtype, channel mismatch or c < 2.
    """
    x_a, x_b = coupling.split(params, x, _NAME, 2)
    shift, log_scale = _shift_and_log_scale(params, x_a)
    y_b = (x_b + shift) * jnp.exp(log_scale)
    return jnp.concatenate([x_a, y_b], axis=-1), coupling.sum_event(log_scale)


def inverse(params: Params, y: jax.Array) -> tuple[jax.Array, jax.Array]:
    """x_b = y_b * exp(-log s) - t; returns (x, log|det dx/dy|)."""
    y_a, y_b = coupling.split(params, y, _NAME, 2)
    shift, log_scale = _shift_and_log_scale(params, y_a)
    x_b = y_b * jnp.exp(-log_scale) - shift
    return jnp.concatenate([y_a, x_b], axis=-1), -coupling.sum_event(log_scale)
