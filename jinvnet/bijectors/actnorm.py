"""ActNorm bijector: per-channel affine normalisation (Glow)."""

from jinvnet.bijectors._op_bijector import OpBijector
from jinvnet.ops import actnorm


class ActNorm(OpBijector):
    """ActNorm bijector: per-channel affine normalisation (Glow).

    Per channel, y = (x + loc) * exp(log_scale), log|det| = H W sum(log_scale);
    x = y * exp(-log_scale) - loc (`jinvnet.ops.actnorm`). Event shape (height,
    width, channels).
    """

    def __init__(self, params: actnorm.Params):
        super().__init__(actnorm, params, is_constant_jacobian=True)
