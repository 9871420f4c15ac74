"""Flax wrappers for invertible downsampling (seed 000): checkerboard and iAvgPool2d.

i-RevNet's downsampling is the 2x2 space to depth of `Squeeze` (same ordering).


Example (a doctest):

    >>> import jax, jax.numpy as jnp
    >>> x = jax.random.normal(jax.random.PRNGKey(0), (2, 4, 4, 3))
    >>> for layer in (Checkerboard(), IAvgPool2d()):
    ...     bijector = layer.apply(layer.init(jax.random.PRNGKey(1), x), x)
    ...     y = bijector.forward(x)
    ...     print(y.shape, bool(jnp.allclose(bijector.inverse(y), x, atol=1e-6)))
    (2, 2, 2, 12) True
    (2, 2, 2, 12) True
"""

import distrax
import flax.linen as nn
import jax

from jinvnet import bijectors


class Checkerboard(nn.Module):
    """2x2 space to depth in checkerboard order; no parameters."""

    @nn.compact
    def __call__(self, x: jax.Array) -> distrax.Bijector:
        """x: a batch of shape (batch, height, width, channels) or its shape struct."""
        return bijectors.Checkerboard()


class IAvgPool2d(nn.Module):
    """Orthogonal Haar downsampling whose first c channels are 2 x AvgPool2d(2)."""

    @nn.compact
    def __call__(self, x: jax.Array) -> distrax.Bijector:
        """x: a batch of shape (batch, height, width, channels) or its shape struct."""
        return bijectors.IAvgPool2d()
