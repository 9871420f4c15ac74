"""Flax wrappers for the parameter-light bijectors: squeeze, permutation, SneakyReLU."""

import distrax
import flax.linen as nn
import jax

from jinvnet import bijectors
from jinvnet.ops import permute, sneaky_relu


class Squeeze(nn.Module):
    """2x2 space to depth; no parameters."""

    @nn.compact
    def __call__(self, x: jax.Array) -> distrax.Bijector:
        """x: a batch of shape (batch, height, width, channels) or its shape struct."""
        return bijectors.Squeeze()


class Permute(nn.Module):
    """A fixed channel permutation, kept in the `constants` collection.

    Attributes:
      kind: "reverse" (RealNVP) or "random" (Glow's shuffle), default "reverse".
    """

    kind: str = "reverse"

    @nn.compact
    def __call__(self, x: jax.Array) -> distrax.Bijector:
        """x: a batch of shape (batch, height, width, channels) or its shape struct."""
        channels = x.shape[-1]
        if self.kind not in ("reverse", "random"):
            raise ValueError(
                f"Permute: kind must be 'reverse' or 'random', got {self.kind!r}"
            )
        if self.kind == "reverse":
            return bijectors.Permute(permute.reverse(channels))
        permutation = self.variable(
            "constants",
            "permutation",
            lambda: permute.init(self.make_rng("params"), channels),
        )
        return bijectors.Permute(permutation.value)


class SneakyReLU(nn.Module):
    """SneakyReLU with a fixed negative-side slope.

    Attributes:
      slope: slope as x -> -inf, positive (default 0.1).
    """

    slope: float = 0.1

    @nn.compact
    def __call__(self, x: jax.Array) -> distrax.Bijector:
        """x: a batch of shape (batch, height, width, channels) or its shape struct."""
        return bijectors.SneakyReLU(sneaky_relu.init(self.slope, x.dtype))
