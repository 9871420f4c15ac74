"""A flow density: a bijector module from data to latent under a Gaussian base.

Example (a doctest): a flow that only reorders pixels keeps N(0, I)'s density.

    >>> import jax, jax.numpy as jnp
    >>> from jinvnet.models import Sequential, Squeeze
    >>> x = jax.random.normal(jax.random.PRNGKey(0), (3, 2, 2, 1))
    >>> model = FlowDensity(Sequential([Squeeze()]))
    >>> density = model.apply(model.init(jax.random.PRNGKey(1), x), x)
    >>> reference = standard_normal((2, 2, 1)).log_prob(x)
    >>> bool(jnp.allclose(density.log_prob(x), reference))
    True
    >>> closed_form = -0.5 * (x**2).sum((1, 2, 3)) - 2 * jnp.log(2 * jnp.pi)
    >>> bool(jnp.allclose(reference, closed_form))
    True
"""

import distrax
import flax.linen as nn
import jax
import jax.numpy as jnp

from jinvnet import bijectors


def standard_normal(
    event_shape: tuple[int, ...], dtype=jnp.float32
) -> distrax.Distribution:
    """N(0, I) over events of `event_shape`."""
    zeros = jnp.zeros(event_shape, dtype)
    return distrax.Independent(
        distrax.Normal(zeros, jnp.ones_like(zeros)), len(event_shape)
    )


class FlowDensity(nn.Module):
    """Wraps a flow module f (data -> latent) into p(x) = N(f(x); 0, I) |det df/dx|.

    `__call__(x)` returns a `distrax.Transformed` whose bijector is f^{-1} (latent to
    data), so `log_prob(x)` runs f forward and `sample` runs f^{-1}.

    Attributes:
      flow: a module whose `__call__(x)` returns the data-to-latent bijector.
    """

    flow: nn.Module

    @nn.compact
    def __call__(self, x: jax.Array) -> distrax.Transformed:
        """x: a batch of shape (batch, height, width, channels) or its shape struct."""
        bijector = self.flow(x)
        latent = bijectors.forward_shape(bijector, x)
        base = standard_normal(latent.shape[1:], x.dtype)
        return distrax.Transformed(base, distrax.Inverse(bijector))
