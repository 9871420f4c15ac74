"""Flax wrappers for invertible downsampling (seed 000): checkerboard and iAvgPool2d.

i-RevNet's downsampling is the 2x2 space to depth of `Squeeze` (same ordering).
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
