"""Flax module for the Fourier-domain circular convolution (seed 000).

Example (a doctest):

    >>> import jax, jax.numpy as jnp
    >>> x = jax.random.normal(jax.random.PRNGKey(0), (2, 8, 8, 3))
    >>> layer = FFTConv(log_det_method="complex")
    >>> bijector = layer.apply(layer.init(jax.random.PRNGKey(1), x), x)
    >>> y, log_det = bijector.forward_and_log_det(x)
    >>> bool(jnp.allclose(bijector.inverse(y), x, atol=1e-4)), log_det.shape
    (True, (2,))
"""

import distrax
import flax.linen as nn
import jax

from jinvnet import bijectors
from jinvnet.ops import fft_conv


class FFTConv(nn.Module):
    """Declares a (k, k, c, c) kernel and returns the `bijectors.FFTConv`.

    The kernel starts as a random rotation at the centre tap plus N(0, init_scale^2)
    noise on every tap (`ops.fft_conv.init`), so the layer starts near an isometry.

    Attributes:
      kernel_size: k (default 3).
      init_scale: standard deviation of the initial tap noise (default 0.01).
      log_det_method: "complex", "lifting" or "rfft" (default).
    """

    kernel_size: int = 3
    init_scale: float = 0.01
    log_det_method: str = fft_conv.DEFAULT_LOG_DET_METHOD

    @nn.compact
    def __call__(self, x: jax.Array) -> distrax.Bijector:
        """x: a batch of shape (batch, height, width, channels) or its shape struct."""
        kernel = self.param(
            "kernel",
            lambda key: (
                fft_conv.init(
                    key,
                    x.shape[-1],
                    kernel_size=self.kernel_size,
                    init_scale=self.init_scale,
                    dtype=x.dtype,
                ).kernel
            ),
        )
        return bijectors.FFTConv(
            fft_conv.Params(kernel), log_det_method=self.log_det_method
        )
