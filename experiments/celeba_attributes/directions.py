"""Attribute directions in a flow's latent space and edits along them (seed 001).

For a binary attribute a in {0, 1} and latents z = f(x) of many images, the
direction is the covariance of z with a divided by the variance of a,

    d = Cov(z, a) / Var(a) = E[z | a = 1] - E[z | a = 0],

the least-squares change of z per unit of the attribute. An image is edited by
decoding f^{-1}(f(x) + s d) for a few scales s.
"""

import jax
import jax.numpy as jnp
import numpy as np

from jinvnet import data


def encode(
    model, variables: dict, images: np.ndarray, num_bins: int, batch_size: int
) -> np.ndarray:
    """Latents f(x) (n, *image_shape) of integer images, dequantised at bin centres."""
    x = data.dequantize(images, num_bins, None)

    @jax.jit
    def forward(batch):
        return model.apply(variables, batch).bijector.inverse(batch)

    chunks = [
        np.asarray(forward(jnp.asarray(x[i : i + batch_size])))
        for i in range(0, len(x), batch_size)
    ]
    return np.concatenate(chunks)


def attribute_directions(latents: np.ndarray, attributes: np.ndarray) -> np.ndarray:
    """Cov(z, a_k) / Var(a_k) for every attribute column k.

    Args:
      latents: (n, *latent_shape).
      attributes: (n, k) binary attributes.

    Returns:
      (k, *latent_shape) directions; zero for an attribute that never varies.
    """
    z = latents.reshape(len(latents), -1).astype(np.float64)
    a = attributes.astype(np.float64)
    a_centred = a - a.mean(0)
    covariance = a_centred.T @ (z - z.mean(0)) / len(z)
    variance = (a_centred**2).mean(0)
    scale = np.divide(1.0, variance, out=np.zeros_like(variance), where=variance > 0)
    return (covariance * scale[:, None]).reshape(len(a.T), *latents.shape[1:])


def edit(
    model,
    variables: dict,
    latents: np.ndarray,
    direction: np.ndarray,
    scales: tuple[float, ...],
) -> np.ndarray:
    """Decodes latents + s * direction: (n * len(scales), h, w, c), a row per image."""
    shifted = latents[:, None] + np.asarray(scales).reshape(1, -1, 1, 1, 1) * direction
    flat = jnp.asarray(shifted.reshape(-1, *latents.shape[1:]), jnp.float32)
    decode = jax.jit(lambda z: model.apply(variables, z).bijector.forward(z))
    return np.asarray(decode(flat))
