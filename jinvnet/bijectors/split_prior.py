"""Split-prior bijector: the multi-scale split with a learned conditional prior."""

from jinvnet.bijectors._op_bijector import OpBijector
from jinvnet.ops import split_prior


class SplitPrior(OpBijector):
    """Whitens the factored-out half by its conditional Gaussian prior (Glow split).

    With x = [z1, z2] along channels and [mu, log_sigma] = NN(z1): y = [z1,
    (z2 - mu) exp(-log_sigma)], log|det| = -sum log_sigma; z2 = y2 exp(log_sigma)
    + mu (`jinvnet.ops.split_prior`). Event shape (height, width, channels).
    """

    def __init__(self, params: split_prior.Params):
        super().__init__(split_prior, params, is_constant_jacobian=False)
