"""Flax modules for additive, affine and quad coupling layers.

Example (a doctest): every coupling is the identity at initialisation, up to the
affine ones' constant scale sigmoid(2).

    >>> import jax, jax.numpy as jnp
    >>> x = jax.random.normal(jax.random.PRNGKey(0), (2, 4, 4, 8))
    >>> for layer in (AdditiveCoupling(hidden_channels=8),
    ...               AffineCoupling(hidden_channels=8, min_scale=0.1),
    ...               QuadCoupling(hidden_channels=8)):
    ...     bijector = layer.apply(layer.init(jax.random.PRNGKey(1), x), x)
    ...     y = bijector.forward(x)
    ...     print(bool(jnp.allclose(y[..., :2], x[..., :2])),
    ...           bool(jnp.allclose(bijector.inverse(y), x, atol=1e-5)))
    True True
    True True
    True True
"""

import functools
from types import ModuleType

import distrax
import flax.linen as nn
import jax

from jinvnet import bijectors
from jinvnet.models._initial import initial_value
from jinvnet.ops import (
    additive_coupling,
    affine_coupling,
    conv_net,
    coupling,
    quad_coupling,
)


def _declare_params(module: nn.Module, op: ModuleType, x: jax.Array) -> coupling.Params:
    """Declares the conditioner's parameters, initialised by `op.init`."""
    make = functools.partial(
        op.init,
        channels=x.shape[-1],
        hidden_channels=module.hidden_channels,
        hidden_init=module.hidden_init,
        dtype=x.dtype,
    )
    start = initial_value(module, make)
    net = conv_net.Params(
        *(
            module.param(name, lambda key, n=name: getattr(start(key).net, n))
            for name in conv_net.Params._fields
        )
    )
    return coupling.Params(net=net)


class AdditiveCoupling(nn.Module):
    """y_b = x_b + NN(x_a); the identity at initialisation.

    Attributes:
      hidden_channels: width of the conditioner (default 64).
      hidden_init: how its hidden layers start, one of `ops.conv_net.HIDDEN_INITS`
        (default "he_normal").
    """

    hidden_channels: int = 64
    hidden_init: str = "he_normal"

    @nn.compact
    def __call__(self, x: jax.Array) -> distrax.Bijector:
        """x: a batch of shape (batch, height, width, channels) or its shape struct."""
        params = _declare_params(self, additive_coupling, x)
        return bijectors.AdditiveCoupling(params)


class AffineCoupling(nn.Module):
    """y_b = (x_b + t(x_a)) * s, s = m + (1 - m) sigmoid(h(x_a) + 2); t = h = 0 at init.

    Attributes:
      hidden_channels: width of the conditioner (default 64).
      min_scale: m in [0, 1), the lower bound of s, which bounds the inverse's
        expansion by 1/m (default 0: Glow's sigmoid scale).
      hidden_init: how the conditioner's hidden layers start, one of
        `ops.conv_net.HIDDEN_INITS` (default "he_normal").
    """

    hidden_channels: int = 64
    min_scale: float = 0.0
    hidden_init: str = "he_normal"

    @nn.compact
    def __call__(self, x: jax.Array) -> distrax.Bijector:
        """x: a batch of shape (batch, height, width, channels) or its shape struct."""
        params = _declare_params(self, affine_coupling, x)
        return bijectors.AffineCoupling(params, min_scale=self.min_scale)


class QuadCoupling(nn.Module):
    """Four-block coupling y_{i+1} = (x_{i+1} + t_i) * s_i (CInC Flow, Sec. 3.2).

    Channels must be divisible by 4. t_i = 0, s_i = sigmoid(2) at initialisation.

    Attributes:
      hidden_channels: width of each of the three conditioners (default 64).
      hidden_init: how their hidden layers start, one of
        `ops.conv_net.HIDDEN_INITS` (default "he_normal").
    """

    hidden_channels: int = 64
    hidden_init: str = "he_normal"

    @nn.compact
    def __call__(self, x: jax.Array) -> distrax.Bijector:
        """x: a batch of shape (batch, height, width, channels) or its shape struct."""
        make = functools.partial(
            quad_coupling.init,
            channels=x.shape[-1],
            hidden_channels=self.hidden_channels,
            hidden_init=self.hidden_init,
            dtype=x.dtype,
        )
        start = initial_value(self, make)
        nets = tuple(
            conv_net.Params(
                *(
                    self.param(
                        f"net{i}_{name}",
                        lambda key, i=i, n=name: getattr(start(key).nets[i], n),
                    )
                    for name in conv_net.Params._fields
                )
            )
            for i in range(3)
        )
        return bijectors.QuadCoupling(quad_coupling.Params(nets=nets))
