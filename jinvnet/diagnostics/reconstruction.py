"""Reconstruction errors ||f^{-1}(f(x)) - x|| in and out of distribution (seed 004).

Behrmann et al. 2021 (Fig. 2) report the l2 reconstruction error per example on
data, on out-of-distribution inputs and on samples from the model; an exploding
inverse shows up as a huge or non-finite error.

Example (a doctest):

    >>> import distrax, jax, jax.numpy as jnp
    >>> event_norm(jnp.full((2, 2, 2, 1), 0.5)).tolist()     # sqrt(4 * 0.25)
    [1.0, 1.0]
    >>> x = jnp.zeros((3, 4, 4, 1))
    >>> sorted(ood_inputs(jax.random.PRNGKey(0), x))           # probes, shaped like x
    ['constant', 'rescaled_x10', 'uniform_noise']
    >>> triple = distrax.Block(distrax.ScalarAffine(shift=0.0, scale=3.0), ndims=3)
    >>> error = sample_reconstruction_error(triple, jax.random.PRNGKey(1), (5, 4, 4, 1))
    >>> error.shape, bool((error < 1e-6).all())
    ((5,), True)
"""

import chex
import distrax
import jax
import jax.numpy as jnp

from jinvnet import _validation

_EVENT_AXES = (-3, -2, -1)


def event_norm(x: jax.Array) -> jax.Array:
    """l2 norm over the event axes (height, width, channels): shape (...,)."""
    return jnp.sqrt(jnp.sum(jnp.square(x), axis=_EVENT_AXES))


def reconstruction_error(
    bijector: distrax.Bijector, x: jax.Array, *, relative: bool = True
) -> jax.Array:
    """Per-example ||f^{-1}(f(x)) - x||_2, divided by max(||x||_2, 1) if `relative`.

    Args:
      bijector: any bijector on images.
      x: inputs of shape (..., height, width, channels).
      relative: divide by max(||x||, 1) (default True), so rescaled inputs compare.

    Returns:
      Errors of the batch shape; NaN or inf where the round trip is non-finite.

    Examples:
      >>> import jax.numpy as jnp
      >>> from jinvnet import bijectors
      >>> reconstruction_error(bijectors.Squeeze(), jnp.ones((2, 4, 4, 1)))
      Array([0., 0.], dtype=float32)
    """
    _validation.check_image(x, "reconstruction_error")
    error = event_norm(bijector.inverse(bijector.forward(x)) - x)
    if relative:
        error = error / jnp.maximum(event_norm(x), 1.0)
    return error


def ood_inputs(key: chex.PRNGKey, x: jax.Array) -> dict[str, jax.Array]:
    """Out-of-distribution inputs shaped like the batch `x`.

    Returns:
      A dict of arrays of the shape of x:
      "uniform_noise": i.i.d. uniform on [min(x), max(x)];
      "constant": constant images, one level per example, spread over [min(x), max(x)];
      "rescaled_x10": 10 * x.
    """
    _validation.check_image(x, "ood_inputs")
    low, high = jnp.min(x), jnp.max(x)
    batch = _validation.event_batch_shape(x)
    levels = jax.random.uniform(jax.random.fold_in(key, 1), batch, x.dtype)
    return {
        "uniform_noise": jax.random.uniform(key, x.shape, x.dtype, low, high),
        "constant": jnp.broadcast_to(
            (low + (high - low) * levels)[..., None, None, None], x.shape
        ),
        "rescaled_x10": 10.0 * x,
    }


def sample_reconstruction_error(
    bijector: distrax.Bijector,
    key: chex.PRNGKey,
    latent_shape: tuple[int, ...],
    *,
    temperature: float = 1.0,
    dtype: jnp.dtype = jnp.float32,
) -> jax.Array:
    """Relative reconstruction error of model samples x = f^{-1}(z), z ~ N(0, T^2 I).

    Args:
      bijector: the data-to-latent bijector f.
      key: PRNG key for z.
      latent_shape: (batch, height, width, channels) of z.
      temperature: standard deviation T of z (default 1).
      dtype: dtype of z (default float32).

    Returns:
      Errors of shape (batch,); non-finite where sampling itself already exploded.
    """
    z = temperature * jax.random.normal(key, latent_shape, dtype)
    return reconstruction_error(bijector, bijector.inverse(z))
