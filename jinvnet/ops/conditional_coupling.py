"""Checkerboard affine coupling conditioned on fixed features (Flow++, Ho et al. 2019).

The coupling layer of the variational dequantiser q(u | k) of Flow++ (Ho et al.
2019, Sec. 3.1): an affine coupling whose shift and scale see the pixels k through
context features, with RealNVP's checkerboard mask (Dinh et al. 2017, Sec. 3.4),
so it works for any number of channels, one included. With the mask
m[i, j] = 1 where (i + j + parity) is even (broadcast over channels) and

    [t, r] = NN([m * x, context]),   log s = B tanh(r / B),   B = SCALE_BOUND = 3,

    forward:  y = m * x + (1 - m) * (x * exp(log s) + t)
              log|det dy/dx| = sum (1 - m) * log s
    inverse:  x = m * y + (1 - m) * (y - t) * exp(-log s)
              log|det dx/dy| = -sum (1 - m) * log s

(sums over height, width and channels). NN is a `conv_net` from c + f to 2c channels
(t first, then r); its output layer starts at zero, so the layer starts as the
identity. The bound B keeps each scale in (e^-3, e^3).

Params: `Params(net, context)`: the conditioner and the context features of shape
(..., height, width, f), fixed for the bijector; their batch shape must broadcast
to the input's (a context without batch axes serves every example).

Example (a checkerboard coupling conditioned on a context image):

    >>> import jax, jax.numpy as jnp
    >>> context = jnp.ones((2, 4, 4, 5))             # e.g. features of a label
    >>> params = init(jax.random.PRNGKey(0), 3, context, hidden_channels=8)
    >>> isinstance(params, Params), params.context.shape
    (True, (2, 4, 4, 5))
    >>> mask(2, 2, 0, jnp.float32)[..., 0].tolist()  # 1 where i + j + parity is even
    [[1.0, 0.0], [0.0, 1.0]]
    >>> x = jax.random.normal(jax.random.PRNGKey(1), (2, 4, 4, 3))
    >>> block = with_parity(1)                       # a Block
    >>> y, log_det = block.forward(params, x)
    >>> x_back, inverse_log_det = block.inverse(params, y)
    >>> (bool(jnp.allclose(x_back, x, atol=1e-6)),
    ...  bool(jnp.allclose(inverse_log_det, -log_det)))
    (True, True)
    >>> bool(jnp.allclose(inverse(params, y, parity=1)[0], x_back))
    True
"""

import functools
from typing import NamedTuple

import chex
import jax
import jax.numpy as jnp

from jinvnet import _validation
from jinvnet.ops import conv_net
from jinvnet.ops.block import Block

_NAME = "conditional_coupling"
SCALE_BOUND = 3.0


class Params(NamedTuple):
    """The conditioner (c + f -> 2c channels) and the context (..., h, w, f)."""

    net: conv_net.Params
    context: jax.Array


def init(
    key: chex.PRNGKey,
    channels: int,
    context: jax.Array,
    *,
    hidden_channels: int = 32,
    dtype: jnp.dtype = jnp.float32,
) -> Params:
    """The identity coupling for `channels` channels conditioned on `context`.

    Args:
      key: PRNG key for the conditioner's hidden layers.
      channels: c, the channels of the transformed input.
      context: features of shape (..., height, width, f).
      hidden_channels: width of the conditioner (default 32).
      dtype: parameter dtype (default float32).

    Raises:
      ValueError: non-positive sizes, a context that is not a floating image.

    Examples:
      >>> import jax, jax.numpy as jnp
      >>> params = init(jax.random.PRNGKey(0), 1, jnp.ones((4, 4, 3)))
      >>> x = jnp.arange(16.0).reshape(1, 4, 4, 1)
      >>> y, log_det = forward(params, x)
      >>> bool(jnp.all(y == x)), float(log_det[0])
      (True, 0.0)
    """
    _validation.check_positive_int(channels, _NAME, "channels")
    _validation.check_image(context, f"{_NAME} context")
    net = conv_net.init(
        key,
        channels + context.shape[-1],
        2 * channels,
        hidden_channels=hidden_channels,
        dtype=dtype,
    )
    return Params(net=net, context=jnp.asarray(context, dtype))


def mask(height: int, width: int, parity: int, dtype: jnp.dtype) -> jax.Array:
    """The mask m, shape (height, width, 1): 1 where i + j + parity is even, else 0."""
    i = jnp.arange(height)[:, None]
    j = jnp.arange(width)[None, :]
    return ((i + j + parity) % 2 == 0).astype(dtype)[..., None]


def _check(params: Params, x: jax.Array, parity: int) -> None:
    _validation.check_params(params, _NAME)
    if parity not in (0, 1):
        raise ValueError(f"{_NAME}: parity must be 0 or 1, got {parity!r}")
    context = params.context
    _validation.check_image(context, f"{_NAME} context")
    c_in, c_out = params.net.w1.shape[2], params.net.w3.shape[3]
    f = context.shape[-1]
    _validation.check_image(
        x, _NAME, channels=c_out // 2, height=context.shape[-3], width=context.shape[-2]
    )
    if c_in != c_out // 2 + f:
        raise ValueError(
            f"{_NAME}: the conditioner takes {c_in} channels, expected the input's "
            f"{c_out // 2} plus the context's {f} = {c_out // 2 + f}"
        )
    batch = x.shape[:-3]
    try:
        broadcast = jnp.broadcast_shapes(context.shape[:-3], batch)
    except ValueError:
        broadcast = None
    if broadcast != batch:
        raise ValueError(
            f"{_NAME}: the context's batch shape must broadcast to the input's "
            f"{batch}, got context of shape {context.shape}"
        )


def _shift_and_log_scale(params: Params, x_a: jax.Array) -> tuple[jax.Array, jax.Array]:
    context = jnp.broadcast_to(
        params.context.astype(x_a.dtype), x_a.shape[:-1] + params.context.shape[-1:]
    )
    shift, raw = jnp.split(
        conv_net.apply(params.net, jnp.concatenate([x_a, context], -1)), 2, -1
    )
    return shift, SCALE_BOUND * jnp.tanh(raw / SCALE_BOUND)


def forward(
    params: Params, x: jax.Array, *, parity: int = 0
) -> tuple[jax.Array, jax.Array]:
    """Y = m x + (1 - m)(x exp(log s) + t), with (t, log s) from (m x, context).

    Args:
      params: `Params` for c channels and f context features.
      x: input of shape (..., height, width, c), the context's height and width.
      parity: 0 keeps the pixels with i + j even, 1 those with i + j odd.

    Returns:
      y of the shape of x, and log|det dy/dx| of the batch shape.

    Raises:
      ValueError: wrong rank, dtype, spatial size or channels; a context whose
        batch shape does not broadcast to x's; parity not 0 or 1.
    """
    _check(params, x, parity)
    m = mask(x.shape[-3], x.shape[-2], parity, x.dtype)
    shift, log_scale = _shift_and_log_scale(params, m * x)
    y = m * x + (1 - m) * (x * jnp.exp(log_scale) + shift)
    return y, jnp.sum((1 - m) * log_scale, axis=(-3, -2, -1))


def inverse(
    params: Params, y: jax.Array, *, parity: int = 0
) -> tuple[jax.Array, jax.Array]:
    """X = m y + (1 - m)(y - t) exp(-log s); returns (x, log|det dx/dy|)."""
    _check(params, y, parity)
    m = mask(y.shape[-3], y.shape[-2], parity, y.dtype)
    shift, log_scale = _shift_and_log_scale(params, m * y)
    x = m * y + (1 - m) * (y - shift) * jnp.exp(-log_scale)
    return x, -jnp.sum((1 - m) * log_scale, axis=(-3, -2, -1))


def with_parity(parity: int) -> Block:
    """`forward` and `inverse` with the mask's parity fixed, as a `Block`."""
    if parity not in (0, 1):
        raise ValueError(f"{_NAME}: parity must be 0 or 1, got {parity!r}")
    return Block(
        functools.partial(forward, parity=parity),
        functools.partial(inverse, parity=parity),
    )
