"""A flow density: a bijector module from data to latent under a Gaussian base."""

import distrax
import flax.linen as nn
import jax
import jax.numpy as jnp


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
        latent = jax.eval_shape(
            bijector.forward, jax.ShapeDtypeStruct(x.shape, x.dtype)
        )
        base = standard_normal(latent.shape[1:], x.dtype)
        return distrax.Transformed(base, distrax.Inverse(bijector))
