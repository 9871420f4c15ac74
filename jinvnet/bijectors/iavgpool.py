"""Invertible average pooling bijector `iAvgPool2d` (seed 000)."""

from jinvnet.bijectors._op_bijector import OpBijector
from jinvnet.ops import iavgpool


class IAvgPool2d(OpBijector):
    """Orthogonal 2x2 Haar downsampling; the first c channels are 2 x AvgPool2d(2).

    Each 2x2 block p of each channel becomes H p with the orthogonal Haar matrix
    H = H^T = H^{-1} (`jinvnet.ops.iavgpool`). Maps (h, w, c) to (h/2, w/2, 4c),
    log-det 0.

    Examples:
      >>> import jax, jax.numpy as jnp
      >>> x = jax.random.normal(jax.random.PRNGKey(0), (2, 4, 4, 3))
      >>> y, log_det = IAvgPool2d().forward_and_log_det(x)
      >>> y.shape, log_det.tolist()
      ((2, 2, 2, 12), [0.0, 0.0])
      >>> bool(jnp.allclose(IAvgPool2d().inverse(y), x, atol=1e-6))
      True
    """

    def __init__(self):
        super().__init__(iavgpool, is_constant_jacobian=True)
