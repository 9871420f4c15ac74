"""Flax wrappers for the parameter-light bijectors.

Squeeze, permutation, SneakyReLU and the logit transform.

Example (a doctest):

    >>> import jax, jax.numpy as jnp
    >>> from jinvnet.models import Sequential
    >>> x = jax.random.uniform(jax.random.PRNGKey(0), (2, 4, 4, 1), minval=-0.5,
    ...                        maxval=0.5)
    >>> flow = Sequential([Logit(alpha=0.05), Squeeze(), Permute("random"),
    ...                    SneakyReLU(slope=0.5)])
    >>> variables = flow.init(jax.random.PRNGKey(1), x)
    >>> sorted(variables)                  # the random permutation is a constant
    ['constants']
    >>> bijector = flow.apply(variables, x)
    >>> y = bijector.forward(x)
    >>> y.shape, bool(jnp.allclose(bijector.inverse(y), x, atol=1e-5))
    ((2, 2, 2, 4), True)
"""

import distrax
import flax.linen as nn
import jax

from jinvnet import bijectors
from jinvnet.ops import logit, permute, sneaky_relu


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


class Logit(nn.Module):
    """The logit transform of pixels in [-1/2, 1/2) with a fixed boundary alpha.

    y = logit(alpha + (1 - 2 alpha)(x + 1/2)) (`ops.logit`, RealNVP); no trained
    parameters. Put it first in a flow (data side) so bits/dim still measures the
    8-bit data.

    Attributes:
      alpha: the boundary in [0, 1/2) (default 1e-6, as MAF and MintNet on MNIST).
    """

    alpha: float = 1e-6

    @nn.compact
    def __call__(self, x: jax.Array) -> distrax.Bijector:
        """x: a batch of shape (batch, height, width, channels) or its shape struct."""
        return bijectors.Logit(logit.init(self.alpha, x.dtype))
