"""Channel permutation bijector (reverse or fixed random)."""

import jax

from jinvnet.bijectors._op_bijector import OpBijector
from jinvnet.ops import permute


class Permute(OpBijector):
    """y[..., k] = x[..., permutation[k]], log-det 0.

    Build with `ops.permute.reverse(c)` or `ops.permute.init(key, c)`.
    """

    def __init__(self, permutation: jax.Array):
        super().__init__(permute, permutation, is_constant_jacobian=True)
