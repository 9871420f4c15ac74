"""Invertible circular k x k convolution in the Fourier domain (seed 000)."""

from jinvnet.bijectors._op_bijector import OpBijector
from jinvnet.ops import fft_conv


class FFTConv(OpBijector):
    """Circular convolution with an exact FFT inverse and log-det (Finzi et al. 2019).

    y = circular cross-correlation of x with the kernel; per frequency f,
    Y_f = A_f X_f, so log|det| = sum_f log|det A_f| and X_f = A_f^{-1} Y_f
    (seed 000, eqs. 1-2; `jinvnet.ops.fft_conv`). Event shape (height, width,
    channels), with the kernel size at most height and width.

    Args:
      params: `fft_conv.Params` with a (k, k, c, c) kernel.
      log_det_method: "complex", "lifting" or "rfft" (default, the fastest).

    Examples:
      >>> import jax, jax.numpy as jnp
      >>> from jinvnet import ops
      >>> key = jax.random.PRNGKey(0)
      >>> bijector = FFTConv(ops.fft_conv.init(key, 4))
      >>> x = jax.random.normal(jax.random.PRNGKey(1), (2, 8, 8, 4))
      >>> y, log_det = bijector.forward_and_log_det(x)
      >>> log_det.shape, bool(jnp.allclose(bijector.inverse(y), x, atol=1e-4))
      ((2,), True)
    """

    keeps_shape = True

    def __init__(
        self,
        params: fft_conv.Params,
        *,
        log_det_method: str = fft_conv.DEFAULT_LOG_DET_METHOD,
    ):
        op = fft_conv.with_log_det_method(log_det_method)
        super().__init__(op, params, is_constant_jacobian=True)
        self.log_det_method = log_det_method
