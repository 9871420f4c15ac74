"""Shared pieces of the channel-split coupling layers (Dinh et al. 2017; Glow).

The input x of shape (..., height, width, c) is split along channels into
x_a = x[..., :c // 2] (passed through) and x_b = x[..., c // 2:] (transformed
conditioned on x_a by a `conv_net`).

Example (the pieces every coupling op is built from):

    >>> import jax, jax.numpy as jnp
    >>> split_sizes(5, "coupling")                     # (c // 2, c - c // 2)
    (2, 3)
    >>> key = jax.random.PRNGKey(0)
    >>> params = init(key, 5, outputs_per_channel=2, hidden_channels=8)
    >>> isinstance(params, Params), params.net.w3.shape   # 2 -> 8 -> 8 -> 2 * 3
    (True, (3, 3, 8, 6))
    >>> x = jax.random.normal(jax.random.PRNGKey(1), (4, 6, 6, 5))
    >>> x_a, x_b = split(params, x, "coupling", 2)
    >>> x_a.shape, x_b.shape
    ((4, 6, 6, 2), (4, 6, 6, 3))
    >>> shift, raw_scale = conditioner_halves(params.net, x_a)   # zero output layer
    >>> float(jnp.abs(shift).max()), raw_scale.shape
    (0.0, (4, 6, 6, 3))
    >>> sum_event(jnp.ones((4, 6, 6, 3))).tolist()      # one log-det per example
    [108.0, 108.0, 108.0, 108.0]
"""

from typing import NamedTuple

import chex
import jax
import jax.numpy as jnp

from jinvnet import _validation
from jinvnet.ops import conv_net


class Params(NamedTuple):
    """Coupling parameters: the conditioner network."""

    net: conv_net.Params


def split_sizes(channels: int, name: str) -> tuple[int, int]:
    """(c_a, c_b) = (c // 2, c - c // 2); raises if a half would be empty."""
    if channels < 2:
        raise ValueError(
            f"{name}: a channel-split coupling needs at least 2 channels, got "
            f"{channels} (the pass-through half would have 0 channels); squeeze first"
        )
    return channels // 2, channels - channels // 2


def init(
    key: chex.PRNGKey,
    channels: int,
    *,
    outputs_per_channel: int,
    hidden_channels: int = 64,
    hidden_init: str = "he_normal",
    dtype: jnp.dtype = jnp.float32,
) -> Params:
    """Conditioner from c // 2 channels to `outputs_per_channel` * (c - c // 2)."""
    c_a, c_b = split_sizes(channels, "coupling")
    net = conv_net.init(
        key,
        c_a,
        outputs_per_channel * c_b,
        hidden_channels=hidden_channels,
        hidden_init=hidden_init,
        dtype=dtype,
    )
    return Params(net=net)


def split(
    params: Params, x: jax.Array, name: str, outputs_per_channel: int
) -> tuple[jax.Array, jax.Array]:
    """Checks x against the conditioner's shapes and splits it into (x_a, x_b)."""
    c_a = params.net.w1.shape[2]
    c_out = params.net.w3.shape[3]
    _validation.check_image(x, name)
    channels = x.shape[-1]
    expected_a, c_b = split_sizes(channels, name)
    if expected_a != c_a or c_out != outputs_per_channel * c_b:
        raise ValueError(
            f"{name}: parameters were built for {2 * c_a} or {2 * c_a + 1} channels "
            f"(conditioner input {c_a}, output {c_out}), got input of shape "
            f"{x.shape} with {channels} channels"
        )
    return x[..., :c_a], x[..., c_a:]


def conditioner_halves(
    net: conv_net.Params, x_a: jax.Array
) -> tuple[jax.Array, jax.Array]:
    """Runs the conditioner on x_a and splits its output channels into two halves.

    Returns:
      (first, second), each of shape (..., height, width, out_channels // 2): the
      shift and the raw scale of an affine coupling, or mu and log_sigma of a prior.
    """
    h = conv_net.apply(net, x_a)
    half = h.shape[-1] // 2
    return h[..., :half], h[..., half:]


def sum_event(values: jax.Array) -> jax.Array:
    """Sums the last three (event) axes: (..., h, w, c) -> (...)."""
    return jnp.sum(values, axis=(-3, -2, -1))
