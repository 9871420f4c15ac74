"""Invertible average pooling bijector `iAvgPool2d` (seed 000)."""

from jinvnet.bijectors._op_bijector import OpBijector
from jinvnet.ops import iavgpool


class IAvgPool2d(OpBijector):
    """Orthogonal 2x2 Haar downsampling; the first c channels are 2 x AvgPool2d(2).

    Each 2x2 block p of each channel becomes H p with the orthogonal Haar matrix
    H = H^T = H^{-1} (`jinvnet.ops.iavgpool`). Maps (h, w, c) to (h/2, w/2, 4c),
    log-det 0.
    """

    def __init__(self):
        super().__init__(iavgpool, is_constant_jacobian=True)
