"""Uniform dequantisation, scaling to [-1/2, 1/2) and the bits/dim accounting.

Discrete pixels k in {0, ..., K-1} become continuous x = (k + u) / K - 1/2 with
u ~ U[0, 1)^D (Theis et al. 2016; Glow, Kingma & Dhariwal 2018). A density p on the
scaled x gives a discrete model P(k) >= p(x) / K^D averaged over u, so

    bits/dim = -log p(x) / (D ln 2) + log2(K)

is an upper bound on the discrete negative log-likelihood in bits per dimension.
This module is the only place that does this accounting.
"""

import math

import jax
import jax.numpy as jnp
import numpy as np


def dequantize(
    images: np.ndarray, num_bins: int, noise: np.ndarray | None
) -> np.ndarray:
    """Maps integer pixels in [0, num_bins) to float32 in [-1/2, 1/2).

    Args:
      images: integer pixels, any shape, values in [0, num_bins).
      num_bins: number of pixel levels K (256 for 8-bit images).
      noise: uniform noise in [0, 1) of the same shape, or None for the bin centres
        (noise = 1/2), as used for deterministic previews.

    Returns:
      float32 array (images + noise) / num_bins - 1/2.

    Raises:
      ValueError: if `noise` has a different shape or `num_bins` < 2.
    """
    if num_bins < 2:
        raise ValueError(f"dequantize: num_bins must be >= 2, got {num_bins}")
    if noise is None:
        noise = np.full(images.shape, 0.5, np.float32)
    if noise.shape != images.shape:
        raise ValueError(
            f"dequantize: noise must have the images' shape {images.shape}, "
            f"got {noise.shape}"
        )
    return ((images.astype(np.float32) + noise) / num_bins - 0.5).astype(np.float32)


def quantize(x: jax.Array, num_bins: int) -> jax.Array:
    """The inverse of `dequantize` up to the noise: floats to integer bins, clipped."""
    return jnp.clip(jnp.floor((x + 0.5) * num_bins), 0, num_bins - 1).astype(jnp.int32)


def bits_per_dim(log_prob: jax.Array, num_dims: int, num_bins: int) -> jax.Array:
    """-log p(x) / (num_dims ln 2) + log2(num_bins), for x scaled by 1/num_bins.

    Args:
      log_prob: log-density (nats) of dequantised, scaled data; any shape.
      num_dims: number of dimensions D of one example (height * width * channels).
      num_bins: number of pixel levels K.

    Returns:
      bits per dimension, same shape as `log_prob`.

    Examples:
      >>> float(bits_per_dim(jnp.zeros(()), num_dims=784, num_bins=256))
      8.0
    """
    return -log_prob / (num_dims * math.log(2.0)) + math.log2(num_bins)
