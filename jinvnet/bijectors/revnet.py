"""RevNet and i-RevNet reversible block bijectors (seed 004)."""

from jinvnet.bijectors._op_bijector import OpBijector
from jinvnet.ops import irevnet, revnet


class RevNetBlock(OpBijector):
    """RevNet block y1 = x1 + F(x2), y2 = x2 + G(y1), or its affine variant.

    Additive: log|det| = 0, inverse x2 = y2 - G(y1), x1 = y1 - F(x2). Affine:
    y1 = (x1 + t_F(x2)) s_F(x2), y2 = (x2 + t_G(y1)) s_G(y1), log|det| = sum log s_F
    + sum log s_G (`jinvnet.ops.revnet`). Event shape (height, width, channels),
    channels even.

    Args:
      params: `ops.revnet.Params`.
      coupling: "additive" (default, log-det 0) or "affine".

    Examples:
      >>> import jax, jax.numpy as jnp
      >>> from jinvnet import ops
      >>> key = jax.random.PRNGKey(0)
      >>> bijector = RevNetBlock(ops.revnet.init(key, 4))
      >>> x = jax.random.normal(jax.random.PRNGKey(1), (2, 8, 8, 4))
      >>> y, log_det = bijector.forward_and_log_det(x)
      >>> log_det.shape, bool(jnp.allclose(bijector.inverse(y), x, atol=1e-4))
      ((2,), True)
    """

    keeps_shape = True

    def __init__(self, params: revnet.Params, *, coupling: str = "additive"):
        super().__init__(revnet.block(coupling), params, is_constant_jacobian=False)


class IRevNetBlock(OpBijector):
    """i-RevNet block y = [S(x2), S(x1) + F(S(x2))] with optional 2x2 downsampling S.

    y = [S(x2), S(x1) + F(S(x2))] with S the 2x2 squeeze (or the identity),
    log|det| = 0 (`jinvnet.ops.irevnet`). Maps (h, w, c) to (h/2, w/2, 4c) when
    `downsample`, else keeps the shape.

    Examples:
      >>> import jax, jax.numpy as jnp
      >>> from jinvnet import ops
      >>> key = jax.random.PRNGKey(0)
      >>> bijector = IRevNetBlock(ops.irevnet.init(key, 4))
      >>> x = jax.random.normal(jax.random.PRNGKey(1), (2, 8, 8, 4))
      >>> y, log_det = bijector.forward_and_log_det(x)
      >>> log_det.shape, bool(jnp.allclose(bijector.inverse(y), x, atol=1e-4))
      ((2,), True)
    """

    def __init__(self, params: irevnet.Params, *, downsample: bool = False):
        op = irevnet.downsampling_block if downsample else irevnet.block
        super().__init__(op, params, is_constant_jacobian=False)
        self.keeps_shape = not downsample
