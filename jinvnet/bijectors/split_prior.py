"""Split-prior bijector: the multi-scale split with a learned conditional prior."""

from jinvnet.bijectors._op_bijector import OpBijector
from jinvnet.ops import split_prior


class SplitPrior(OpBijector):
    """Whitens the factored-out half by its conditional Gaussian prior (Glow split).

    Equations: `jinvnet.ops.split_prior`. Event shape (height, width, channels).
    """

    def __init__(self, params: split_prior.Params):
        super().__init__(split_prior, params, is_constant_jacobian=False)
