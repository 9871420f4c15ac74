"""Uniform dequantisation, scaling to [-1/2, 1/2) and the bits/dim accounting.

Discrete pixels k in {0, ..., K-1} become continuous x = (k + u) / K - 1/2 with
u ~ U[0, 1)^D (Theis et al. 2016; Glow, Kingma & Dhariwal 2018). A density p on the
scaled x gives a discrete model P(k) >= p(x) / K^D averaged over u, so

    bits/dim = -log p(x) / (D ln 2) + log2(K)

is an upper bound on the discrete negative log-likelihood in bits per dimension.

Variational dequantisation (Flow++, Ho et al. 2019, Sec. 3.1) draws u from a learned
q(u | k) on [0, 1)^D instead. By Jensen's inequality

    log P(k) = log E_q[p(x) K^-D / q(u | k)] >= E_q[log p(x) - log q(u | k)] - D log K,

so bits/dim = (-log p(x) + log q(u | k)) / (D ln 2) + log2(K), averaged over u ~ q,
is again an upper bound on -log2 P(k) / D; a uniform q (log q = 0) gives the
uniform bound above, and the gap to -log2 P(k) / D is KL(q || p(u | k)) / (D ln 2).
This module is the only place that does this accounting.

Example (a doctest):

    >>> import numpy as np
    >>> pixels = np.array([0, 1, 255]).reshape(1, 1, 3, 1)
    >>> x = dequantize(pixels, 256, noise=np.full(pixels.shape, 0.5))   # bin centres
    >>> x.ravel().tolist() == [(p + 0.5) / 256 - 0.5 for p in (0, 1, 255)]
    True
    >>> np.asarray(quantize(x, 256)).ravel().tolist()
    [0, 1, 255]
"""

import math

import jax
import jax.numpy as jnp
import numpy as np


def dequantize(
    images: np.ndarray | jax.Array,
    num_bins: int,
    noise: np.ndarray | jax.Array | None,
) -> np.ndarray | jax.Array:
    """Maps integer pixels in [0, num_bins) to float32 in [-1/2, 1/2).

    Works on numpy arrays (the data pipeline) and on jax arrays under `jit` (the
    variational dequantiser, whose noise is a jax array).

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


def variational_bits_per_dim(
    log_prob: jax.Array, log_q: jax.Array, num_dims: int, num_bins: int
) -> jax.Array:
    """(-log p(x) + log q(u | k)) / (num_dims ln 2) + log2(num_bins) (Flow++ bound).

    Args:
      log_prob: log p(x) (nats) of x = (k + u) / num_bins - 1/2; any shape.
      log_q: log q(u | k) (nats) of the noise u that made x, same shape; 0 for
        uniform noise, which gives `bits_per_dim`.
      num_dims: number of dimensions D of one example.
      num_bins: number of pixel levels K.

    Returns:
      bits per dimension, same shape: for u ~ q, an unbiased estimate of an upper
      bound on the discrete negative log-likelihood in bits per dimension.

    Examples:
      >>> float(variational_bits_per_dim(jnp.zeros(()), jnp.zeros(()), 784, 256))
      8.0
    """
    return bits_per_dim(log_prob - log_q, num_dims, num_bins)
