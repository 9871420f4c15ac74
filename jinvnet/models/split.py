"""Flax modules for the multi-scale split: the learned prior and the channel slice.

Example (a doctest): Glow's split, by hand, on the last level's channels.

    >>> import flax.linen as nn, jax, jax.numpy as jnp
    >>> from jinvnet.models import AffineCoupling
    >>> x = jax.random.normal(jax.random.PRNGKey(0), (2, 4, 4, 8))
    >>> layer = SplitPrior(hidden_channels=8)      # whitens x[..., 4:] given x[..., :4]
    >>> bijector = layer.apply(layer.init(jax.random.PRNGKey(1), x), x)
    >>> bool(jnp.allclose(bijector.forward(x), x))  # the identity at init
    True
    >>> inner = ActOnChannels(AffineCoupling(hidden_channels=8), channels=4)
    >>> bijector = inner.apply(inner.init(jax.random.PRNGKey(2), x), x)
    >>> y = bijector.forward(x)                    # channels 4.. pass through
    >>> bool(jnp.allclose(y[..., 4:], x[..., 4:])), y.shape
    (True, (2, 4, 4, 8))
    >>> class Half(nn.Module):                     # take_channels in a module
    ...     @nn.compact
    ...     def __call__(self, x):
    ...         return take_channels(self, x, 3).shape
    >>> Half().init_with_output(jax.random.PRNGKey(0), x)[0]
    (2, 4, 4, 3)
"""

import functools

import distrax
import flax.linen as nn
import jax

from jinvnet import bijectors
from jinvnet.models._initial import initial_value
from jinvnet.ops import conv_net, coupling, split_prior


def take_channels(
    module: nn.Module, x: jax.Array | jax.ShapeDtypeStruct, channels: int
) -> jax.Array | jax.ShapeDtypeStruct:
    """x[..., :channels] during `init` (real data), its shape struct afterwards."""
    if module.is_initializing():
        return x[..., :channels]
    return jax.ShapeDtypeStruct(tuple(x.shape[:-1]) + (channels,), x.dtype)


class SplitPrior(nn.Module):
    """The split with a learned conditional prior; the identity at initialisation.

    Keeps z1 = x[..., :c // 2] and maps z2 = x[..., c // 2:] to
    (z2 - mu(z1)) * exp(-log_sigma(z1)) (`jinvnet.ops.split_prior`).

    Attributes:
      hidden_channels: width of the conditioner computing [mu, log_sigma] (default 64).
    """

    hidden_channels: int = 64

    @nn.compact
    def __call__(self, x: jax.Array) -> distrax.Bijector:
        """x: a batch of shape (batch, height, width, channels) or its shape struct."""
        make = functools.partial(
            split_prior.init,
            channels=x.shape[-1],
            hidden_channels=self.hidden_channels,
            dtype=x.dtype,
        )
        start = initial_value(self, make)
        net = conv_net.Params(
            *(
                self.param(name, lambda key, n=name: getattr(start(key).net, n))
                for name in conv_net.Params._fields
            )
        )
        return bijectors.SplitPrior(coupling.Params(net=net))


class ActOnChannels(nn.Module):
    """Runs `inner` on the first `channels` channels; the rest pass through.

    At `init`, `inner` sees the real slice x[..., :channels], so its data-dependent
    initialisation (ActNorm) uses the kept half only.

    Attributes:
      inner: a module whose `__call__(x)` returns a shape-preserving bijector.
      channels: the number of leading channels `inner` acts on.
    """

    inner: nn.Module
    channels: int

    @nn.compact
    def __call__(self, x: jax.Array) -> distrax.Bijector:
        """x: a batch of shape (batch, height, width, channels) or its shape struct."""
        if x.shape[-1] < self.channels:
            raise ValueError(
                f"ActOnChannels: inner acts on the first {self.channels} channels, "
                f"got input of shape {tuple(x.shape)}"
            )
        inner = self.inner(take_channels(self, x, self.channels))
        return bijectors.ActOnChannels(inner, self.channels)
