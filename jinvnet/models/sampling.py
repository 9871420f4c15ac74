"""Sampling from a flow density with a temperature (Kingma & Dhariwal 2018, Sec. 5)."""

import chex
import distrax
import jax


def sample(
    dist: distrax.Transformed,
    key: chex.PRNGKey,
    num_samples: int,
    *,
    temperature: float = 1.0,
) -> jax.Array:
    """Draws x = g(T z) with z ~ N(0, I): the base scaled by the temperature T.

    `dist` is a flow density such as `FlowDensity(flow).apply(variables, x)`, whose
    base is a zero-mean isotropic Gaussian; T < 1 gives the smoother, more typical
    samples of Glow's "reduced temperature" (sampling from p(x)^(1/T^2) up to the
    Jacobian). T = 1 equals `dist.sample`.

    Args:
      dist: a `distrax.Transformed` with a zero-mean isotropic Gaussian base.
      key: PRNG key.
      num_samples: number of samples n.
      temperature: T >= 0 (default 1.0).

    Returns:
      Samples of shape (n, *event_shape).

    Raises:
      ValueError: if T is negative.

    Examples:
      >>> import jax, jax.numpy as jnp, distrax
      >>> base = distrax.Independent(distrax.Normal(jnp.zeros((2, 2, 1)), 1.0), 3)
      >>> dist = distrax.Transformed(base, distrax.Block(distrax.ScalarAffine(3.0), 3))
      >>> sample(dist, jax.random.PRNGKey(0), 5, temperature=0.0)[:, 0, 0, 0].tolist()
      [3.0, 3.0, 3.0, 3.0, 3.0]
    """
    if temperature < 0:
        raise ValueError(f"sample: temperature must be >= 0, got {temperature}")
    z = dist.distribution.sample(seed=key, sample_shape=(num_samples,))
    return dist.bijector.forward(temperature * z)
