"""Composes bijector-returning Flax modules in order into one `distrax.Chain`.

Example (a doctest): `Sequential` chains layers; a module of one's own that
builds several layers passes them data with `propagate`, as `Sequential` does.

    >>> import distrax, flax.linen as nn, jax, jax.numpy as jnp
    >>> from jinvnet.models import ActNorm, Conv1x1LU
    >>> class NormThenMix(nn.Module):
    ...     @nn.compact
    ...     def __call__(self, x):
    ...         norm = ActNorm()(x)
    ...         mix = Conv1x1LU()(propagate(self, norm, x))  # data at init
    ...         return distrax.Chain([mix, norm])
    >>> x = 5.0 + jax.random.normal(jax.random.PRNGKey(0), (16, 4, 4, 3))
    >>> for flow in (NormThenMix(), Sequential([ActNorm(), Conv1x1LU()])):
    ...     bijector = flow.apply(flow.init(jax.random.PRNGKey(1), x), x)
    ...     print(round(float(bijector.forward(x).mean()), 4) == 0.0)
    True
    True
"""

from typing import Sequence

import distrax
import flax.linen as nn
import jax

from jinvnet import bijectors


def propagate(
    module: nn.Module, bijector: distrax.Bijector, x: jax.Array
) -> jax.Array | jax.ShapeDtypeStruct:
    """The input of the next layer during `init`, or just its shape during `apply`.

    At initialisation the next layer needs real data (ActNorm's data-dependent
    init); afterwards only shapes are needed, so no compute is spent building the
    bijector, and layers that keep the shape are not even traced
    (`bijectors.forward_shape`).
    """
    if module.is_initializing():
        return bijector.forward(x)
    return bijectors.forward_shape(bijector, x)


class Sequential(nn.Module):
    """Applies `layers` in the given order: layers[0] acts on the data first.

    Each layer is a module whose `__call__(x)` returns a distrax bijector; the
    result is `distrax.Chain` of them (distrax applies the last chain element first,
    so the list is reversed for it).

    Attributes:
      layers: the modules, in data-to-latent order.
    """

    layers: Sequence[nn.Module]

    @nn.compact
    def __call__(self, x: jax.Array) -> distrax.Bijector:
        """x: a batch of shape (batch, height, width, channels) or its shape struct."""
        chain = []
        for layer in self.layers:
            bijector = layer(x)
            x = propagate(self, bijector, x)
            chain.append(bijector)
        return distrax.Chain(chain[::-1])
