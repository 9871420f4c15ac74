"""Checkerboard affine coupling given fixed context features (Flow++ dequantiser)."""

from jinvnet.bijectors._op_bijector import OpBijector
from jinvnet.ops import conditional_coupling


class ConditionalCoupling(OpBijector):
    """Y = m x + (1 - m)(x exp(log s) + t) with (t, log s) from (m x, context).

    A bijector of x for the context held in `params` (Flow++, Ho et al. 2019,
    Sec. 3.1). log|det dy/dx| = sum (1 - m) log s; equations:
    `jinvnet.ops.conditional_coupling`. Event shape (height, width, channels).

    Args:
      params: `ops.conditional_coupling.Params` (conditioner and context).
      parity: the checkerboard mask keeps pixels with i + j + parity even
        (default 0).

    Examples:
      >>> import jax, jax.numpy as jnp
      >>> from jinvnet import ops
      >>> context = jnp.ones((2, 4, 4, 5))
      >>> params = ops.conditional_coupling.init(jax.random.PRNGKey(0), 3, context)
      >>> bijector = ConditionalCoupling(params, parity=1)
      >>> x = jax.random.normal(jax.random.PRNGKey(1), (2, 4, 4, 3))
      >>> y, log_det = bijector.forward_and_log_det(x)
      >>> bool(jnp.allclose(bijector.inverse(y), x, atol=1e-6)), log_det.shape
      (True, (2,))
    """

    keeps_shape = True

    def __init__(self, params: conditional_coupling.Params, *, parity: int = 0):
        super().__init__(
            conditional_coupling.with_parity(parity),
            params,
            is_constant_jacobian=False,
        )
