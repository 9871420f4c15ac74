"""A stack of identical reversible blocks, with optional memory-saving backprop."""

import functools

import chex

from jinvnet.bijectors._op_bijector import OpBijector
from jinvnet.ops import reversible_stack
from jinvnet.ops.block import Block


class ReversibleStack(OpBijector):
    """Applies `depth` blocks of one kind in order, parameters stacked on axis 0.

    x_{l+1} = f(p_l, x_l) for l = 0 .. L-1, log|det| = sum of the blocks'; the
    inverse runs the blocks' inverses backwards (`jinvnet.ops.reversible_stack`).
    With `memory_saving=True` (default)
    gradients recompute activations from outputs (constant activation memory in
    depth); that path supports reverse-mode autodiff only, so build the bijector
    with `memory_saving=False` for `jax.jvp` / `jax.jacfwd` (e.g. diagnostics).

    Args:
      params: block parameters stacked along a leading depth axis
        (`ops.reversible_stack.init`).
      block: the block, e.g. `ops.revnet.additive` or `ops.irevnet.block`.
      memory_saving: recompute instead of storing activations (default True).
      unroll: blocks per iteration of the compiled loop (default 1; see
        `ops.reversible_stack.forward`).

    Examples:
      >>> import jax, jax.numpy as jnp
      >>> from jinvnet import ops
      >>> keys = jax.random.split(jax.random.PRNGKey(0), 4)
      >>> params = jax.vmap(lambda k: ops.revnet.init(k, 4, hidden_channels=8))(keys)
      >>> bijector = ReversibleStack(params, block=ops.revnet.block("additive"))
      >>> x = jax.random.normal(jax.random.PRNGKey(1), (2, 4, 4, 4))
      >>> y, log_det = bijector.forward_and_log_det(x)
      >>> bool(jnp.allclose(bijector.inverse(y), x, atol=1e-5)), log_det.tolist()
      (True, [0.0, 0.0])
    """

    keeps_shape = True

    def __init__(
        self,
        params: chex.ArrayTree,
        *,
        block: Block,
        memory_saving: bool = True,
        unroll: int = 1,
    ):
        op = Block(
            functools.partial(
                reversible_stack.forward,
                block,
                memory_saving=memory_saving,
                unroll=unroll,
            ),
            functools.partial(reversible_stack.inverse, block, unroll=unroll),
        )
        super().__init__(op, params, is_constant_jacobian=False)
        self.block = block
        self.memory_saving = memory_saving
        self.unroll = unroll
