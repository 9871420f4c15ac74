"""Quad coupling bijector (CInC Flow, seed 001 Sec. 3.2)."""

from jinvnet.bijectors._op_bijector import OpBijector
from jinvnet.ops import quad_coupling


class QuadCoupling(OpBijector):
    """Four-block autoregressive affine coupling (CInC Flow).

    With x = [x_1, x_2, x_3, x_4] along channels: y_1 = x_1 and
    y_{i+1} = (x_{i+1} + t_i(x_1..x_i)) * s_i(x_1..x_i), s_i = sigmoid(h_i + 2),
    log|det| = sum_i sum log s_i; the inverse runs the blocks in order
    (`jinvnet.ops.quad_coupling`). Event shape (height, width, channels),
    channels divisible by 4.

    Examples:
      >>> import jax, jax.numpy as jnp
      >>> from jinvnet import ops
      >>> key = jax.random.PRNGKey(0)
      >>> bijector = QuadCoupling(ops.quad_coupling.init(key, 4))
      >>> x = jax.random.normal(jax.random.PRNGKey(1), (2, 8, 8, 4))
      >>> y, log_det = bijector.forward_and_log_det(x)
      >>> log_det.shape, bool(jnp.allclose(bijector.inverse(y), x, atol=1e-4))
      ((2,), True)
    """

    keeps_shape = True

    def __init__(self, params: quad_coupling.Params):
        super().__init__(quad_coupling, params, is_constant_jacobian=False)
