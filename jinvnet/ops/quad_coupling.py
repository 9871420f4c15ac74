"""Quad coupling: a four-block autoregressive affine coupling (CInC Flow, Sec. 3.2).

Nagar et al. 2021 (seed 001, Eqs. 3-6), after generalised Feistel schemes. The
input x of shape (..., height, width, c), c divisible by 4, is split along
channels into four blocks x_1..x_4 of c/4 channels. Block i + 1 is transformed
conditioned on all the blocks before it:

    forward:  y_1 = x_1,
              y_{i+1} = (x_{i+1} + t_i(x_1..x_i)) * s_i(x_1..x_i),   i = 1, 2, 3
              log|det dy/dx| = sum_i sum log s_i
    inverse:  x_1 = y_1,
              x_{i+1} = y_{i+1} / s_i(x_1..x_i) - t_i(x_1..x_i),  i = 1, 2, 3 in order
              log|det dx/dy| = -sum_i sum log s_i

[t_i, h_i] = NN_i(x_1..x_i) is a three-layer `conv_net` (the seed's f_i and
g_i share it, as Glow's coupling network does). The seed writes the scale as
exp(g_i); we use g_i = log s_i = log_sigmoid(h_i + 2), as `affine_coupling`
does: s_i lies in (0, 1), so every block is contractive going forward, the
log-det is bounded above, and the layer starts at t = 0, s = sigmoid(2) with
the zero-initialised output layer. The inverse divides by s_i and can still
explode where s_i is small (seed 004).

Params: `Params(nets)`, a tuple of three `conv_net.Params`; net i maps i * c/4
channels to 2 * c/4 (shift, then pre-scale).

Example (a doctest):

    >>> import jax, jax.numpy as jnp
    >>> params = init(jax.random.PRNGKey(0), 8, hidden_channels=8)
    >>> isinstance(params, Params), len(params.nets)  # the nets of blocks 2, 3 and 4
    (True, 3)
    >>> x = jax.random.normal(jax.random.PRNGKey(1), (2, 4, 4, 8))
    >>> y, log_det = forward(params, x)
    >>> bool(jnp.allclose(inverse(params, y)[0], x, atol=1e-5))
    True
"""

from typing import NamedTuple

import chex
import jax
import jax.numpy as jnp

from jinvnet import _validation
from jinvnet.ops import conv_net, coupling

_NAME = "quad_coupling"

_BLOCKS = 4


class Params(NamedTuple):
    """The three conditioner networks, for blocks 2, 3 and 4."""

    nets: tuple[conv_net.Params, conv_net.Params, conv_net.Params]


def _block_size(channels: int) -> int:
    if channels < _BLOCKS or channels % _BLOCKS != 0:
        raise ValueError(
            f"{_NAME}: channels must be a positive multiple of 4 (four equal blocks), "
            f"got {channels}; squeeze first or use affine_coupling"
        )
    return channels // _BLOCKS


def init(
    key: chex.PRNGKey,
    channels: int,
    *,
    hidden_channels: int = 64,
    hidden_init: str = "he_normal",
    dtype: jnp.dtype = jnp.float32,
) -> Params:
    """Zero output layers: t_i = 0 and s_i = sigmoid(2) at initialisation.

    `hidden_init` starts the conditioners' hidden layers (`conv_net.HIDDEN_INITS`).

    Raises:
      ValueError: if `channels` is not a positive multiple of 4.
    """
    _validation.check_positive_int(channels, _NAME, "channels")
    block = _block_size(channels)
    keys = jax.random.split(key, _BLOCKS - 1)
    nets = tuple(
        conv_net.init(
            k,
            i * block,
            2 * block,
            hidden_channels=hidden_channels,
            hidden_init=hidden_init,
            dtype=dtype,
        )
        for i, k in enumerate(keys, start=1)
    )
    return Params(nets=nets)


def _split(params: Params, x: jax.Array) -> list[jax.Array]:
    _validation.check_image(x, _NAME)
    channels = x.shape[-1]
    block = _block_size(channels)
    expected = params.nets[0].w1.shape[2]
    if len(params.nets) != _BLOCKS - 1 or expected != block:
        raise ValueError(
            f"{_NAME}: parameters were built for {_BLOCKS * expected} channels "
            f"({len(params.nets)} conditioners), got input of shape {x.shape} "
            f"with {channels} channels"
        )
    return [x[..., i * block : (i + 1) * block] for i in range(_BLOCKS)]


def _shift_and_log_scale(
    net: conv_net.Params, context: list[jax.Array]
) -> tuple[jax.Array, jax.Array]:
    shift, raw_scale = coupling.conditioner_halves(
        net, jnp.concatenate(context, axis=-1)
    )
    return shift, jax.nn.log_sigmoid(raw_scale + 2.0)


def forward(params: Params, x: jax.Array) -> tuple[jax.Array, jax.Array]:
    """y_{i+1} = (x_{i+1} + t_i(x_1..x_i)) * s_i(x_1..x_i) (seed 001, Eqs. 3-6).

    Args:
      params: `Params` for c channels.
      x: input of shape (..., height, width, c), c divisible by 4.

    Returns:
      y of the shape of x, and log|det dy/dx| of the batch shape.

    Raises:
      ValueError: wrong rank, non-floating dtype, c not a multiple of 4 or a
        channel mismatch with the parameters.

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
    blocks = _split(params, x)
    outputs = [blocks[0]]
    log_det = jnp.zeros(_validation.event_batch_shape(x), x.dtype)
    for i, net in enumerate(params.nets, start=1):
        shift, log_scale = _shift_and_log_scale(net, blocks[:i])
        outputs.append((blocks[i] + shift) * jnp.exp(log_scale))
        log_det = log_det + coupling.sum_event(log_scale)
    return jnp.concatenate(outputs, axis=-1), log_det


def inverse(params: Params, y: jax.Array) -> tuple[jax.Array, jax.Array]:
    """x_{i+1} = y_{i+1} / s_i - t_i, block by block; returns (x, log|det dx/dy|)."""
    blocks = _split(params, y)
    inputs = [blocks[0]]
    log_det = jnp.zeros(_validation.event_batch_shape(y), y.dtype)
    for i, net in enumerate(params.nets, start=1):
        shift, log_scale = _shift_and_log_scale(net, inputs)
        inputs.append(blocks[i] * jnp.exp(-log_scale) - shift)
        log_det = log_det - coupling.sum_event(log_scale)
    return jnp.concatenate(inputs, axis=-1), log_det
