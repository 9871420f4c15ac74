"""Checkerboard downsampling bijector (seed 000's "Checkerboard DS")."""

from jinvnet.bijectors._op_bijector import OpBijector
from jinvnet.ops import checkerboard


class Checkerboard(OpBijector):
    """2x2 space to depth grouped by checkerboard colour, log-det 0.

    y[i, j, q c + k] = x[2i + a_q, 2j + b_q, k] with offsets (a_q, b_q) = (0, 0),
    (1, 1), (0, 1), (1, 0) (`jinvnet.ops.checkerboard`). Maps (h, w, c) to
    (h/2, w/2, 4c). For
    i-RevNet's downsampling use `Squeeze` (the same ordering as i-RevNet's psi).

    Examples:
      >>> import jax.numpy as jnp
      >>> x = jnp.arange(32.0).reshape(2, 4, 4, 1)
      >>> y, log_det = Checkerboard().forward_and_log_det(x)
      >>> y.shape, log_det.tolist(), bool((Checkerboard().inverse(y) == x).all())
      ((2, 2, 2, 4), [0.0, 0.0], True)
    """

    def __init__(self):
        super().__init__(checkerboard, is_constant_jacobian=True)
