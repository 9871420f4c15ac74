"""Flax module for ActNorm with data-dependent initialisation (Glow).

Example (a doctest): the first batch comes out with zero mean and unit variance.

    >>> import jax, jax.numpy as jnp
    >>> x = 3.0 + 2.0 * jax.random.normal(jax.random.PRNGKey(0), (64, 4, 4, 3))
    >>> layer = ActNorm()
    >>> variables = layer.init(jax.random.PRNGKey(1), x)
    >>> y, log_det = layer.apply(variables, x).forward_and_log_det(x)
    >>> bool(jnp.allclose(y.mean((0, 1, 2)), 0.0, atol=1e-5))
    True
    >>> bool(jnp.allclose(y.std((0, 1, 2)), 1.0, atol=1e-4)), log_det.shape
    (True, (64,))
"""

import distrax
import flax.linen as nn
import jax

from jinvnet import bijectors
from jinvnet.ops import actnorm


class ActNorm(nn.Module):
    """Declares ActNorm's (loc, log_scale) and returns the `bijectors.ActNorm`.

    Called with the first batch at `init`, the parameters are set so that every
    channel of that batch has zero mean and unit variance (`ops.actnorm.data_init`).
    """

    @nn.compact
    def __call__(self, x: jax.Array) -> distrax.Bijector:
        """x: a batch of shape (batch, height, width, channels) or its shape struct."""
        if self.is_initializing():
            start = actnorm.data_init(x)
        else:
            start = actnorm.init(x.shape[-1], dtype=x.dtype)
        params = actnorm.Params(
            *(self.param(name, lambda _, v=v: v) for name, v in start._asdict().items())
        )
        return bijectors.ActNorm(params)
