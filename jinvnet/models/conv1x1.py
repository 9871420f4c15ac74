"""Flax modules for invertible 1x1 convolutions (dense and LU, Glow).

Example (a doctest): both start as rotations, so the log-det starts at 0.

    >>> import jax, jax.numpy as jnp
    >>> x = jax.random.normal(jax.random.PRNGKey(0), (2, 4, 4, 3))
    >>> for layer in (Conv1x1(), Conv1x1LU()):
    ...     bijector = layer.apply(layer.init(jax.random.PRNGKey(1), x), x)
    ...     y, log_det = bijector.forward_and_log_det(x)
    ...     print(bool(jnp.allclose(log_det, 0.0, atol=1e-5)),
    ...           bool(jnp.allclose(bijector.inverse(y), x, atol=1e-5)))
    True True
    True True
"""

import functools

import distrax
import flax.linen as nn
import jax

from jinvnet import bijectors
from jinvnet.models._initial import initial_value
from jinvnet.ops import conv1x1, conv1x1_lu


class Conv1x1(nn.Module):
    """A dense (c, c) weight, initialised to a random rotation."""

    @nn.compact
    def __call__(self, x: jax.Array) -> distrax.Bijector:
        """x: a batch of shape (batch, height, width, channels) or its shape struct."""
        channels = x.shape[-1]
        weight = self.param(
            "weight", lambda key: conv1x1.init(key, channels, dtype=x.dtype).weight
        )
        return bijectors.Conv1x1(conv1x1.Params(weight=weight))


class Conv1x1LU(nn.Module):
    """LU-parametrised 1x1 convolution, initialised to a random rotation.

    The permutation and the signs of U's diagonal are fixed: they live in the
    `constants` collection, which `init` returns next to `params` and `apply` needs.
    """

    @nn.compact
    def __call__(self, x: jax.Array) -> distrax.Bijector:
        """x: a batch of shape (batch, height, width, channels) or its shape struct."""
        make = functools.partial(conv1x1_lu.init, channels=x.shape[-1], dtype=x.dtype)
        start = initial_value(self, make)
        fixed = {
            name: self.variable(
                "constants", name, lambda n=name: getattr(start(None), n)
            )
            for name in ("permutation", "sign")
        }
        learned = {
            name: self.param(name, lambda key, n=name: getattr(start(key), n))
            for name in ("lower", "upper", "log_scale")
        }
        params = conv1x1_lu.Params(
            permutation=fixed["permutation"].value, sign=fixed["sign"].value, **learned
        )
        return bijectors.Conv1x1LU(params)

    def free_mask(self) -> dict:
        """Param name -> 0/1 mask of its trained entries (`conv1x1_lu.free_mask`)."""
        p = self.variables["params"]
        lu = conv1x1_lu.Params(None, None, p["lower"], p["upper"], p["log_scale"])
        masks = conv1x1_lu.free_mask(lu)
        return {n: m for n, m in masks._asdict().items() if m is not None}
