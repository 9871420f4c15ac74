"""A stack of identical reversible blocks with memory-saving backprop (seed 004).

`params` holds the parameters of `depth` blocks stacked along a leading axis; the
stack applies block 0 first:

    forward:  x_0 = x,  x_{l+1} = f(p_l, x_l),  y = x_L,
              log|det dy/dx| = sum_l log|det df/dx(p_l, x_l)|
    inverse:  x_l = f^{-1}(p_l, x_{l+1}) for l = L - 1, ..., 0,
              log|det dx/dy| = -log|det dy/dx|

With `memory_saving=True` the forward pass is a `jax.custom_vjp` that keeps only the
output y (Gomez et al. 2017, the RevNet row "O(1) space, O(L) compute" of the table
in seed 004). The backward pass walks the blocks from the last to the first,
recomputes each block's input from its output with the block's inverse, re-runs the
block forward under `jax.vjp` and pulls the cotangent through it, so activation
memory does not grow with depth. The gradients are exact only as far as the inverse
is numerically stable: an exploding inverse (Behrmann et al. 2021) gives wrong
gradients, which `gradient_angle` in `jinvnet.diagnostics` measures. The
memory-saving path supports reverse-mode autodiff only (`jax.grad`, `jax.vjp`); use
`memory_saving=False` for forward mode (`jax.jvp`, `jax.jacfwd`).

A block is any object with `forward(params, x) -> (y, log_det)` and
`inverse(params, y) -> (x, log_det)` that keeps the shape of x: an op module such as
`jinvnet.ops.additive_coupling` or an `ops.block.Block` of two functions
(`ops.revnet.additive`).

Example (eight RevNet blocks, activations recomputed in the backward pass):

    >>> import jax, jax.numpy as jnp
    >>> from jinvnet.ops import revnet
    >>> init_block = lambda key: revnet.init(key, 4, hidden_channels=8)
    >>> params = init(jax.random.PRNGKey(0), 8, init_block)
    >>> depth(params)
    8
    >>> x = jax.random.normal(jax.random.PRNGKey(1), (2, 4, 4, 4))
    >>> block = revnet.block("additive")
    >>> y, _ = forward(block, params, x)
    >>> bool(jnp.allclose(inverse(block, params, y)[0], x, atol=1e-5))
    True
"""

from typing import Any, Callable

import chex
import jax
import jax.numpy as jnp

from jinvnet import _validation
from jinvnet.ops.block import Block, OpFn

_NAME = "reversible_stack"


def init(
    key: chex.PRNGKey, depth: int, init_block: Callable[[chex.PRNGKey], Any]
) -> Any:
    """Stacks `depth` independent draws of `init_block(key)` along a leading axis.

    Examples:
      >>> import jax
      >>> from jinvnet.ops import additive_coupling
      >>> params = init(
      ...     jax.random.PRNGKey(0), 3,
      ...     lambda k: additive_coupling.init(k, 4, hidden_channels=8))
      >>> params.net.w1.shape
      (3, 3, 3, 2, 8)
    """
    _validation.check_positive_int(depth, _NAME, "depth")
    return jax.vmap(init_block)(jax.random.split(key, depth))


def depth(params: Any) -> int:
    """Number of stacked blocks (the leading axis of every leaf)."""
    sizes = {jnp.shape(leaf)[0] for leaf in jax.tree_util.tree_leaves(params)}
    if len(sizes) != 1:
        raise ValueError(
            f"{_NAME}: every parameter leaf must have the same leading (depth) axis, "
            f"got leading sizes {sorted(sizes)}"
        )
    return sizes.pop()


def _check(params: Any, x: jax.Array) -> None:
    _validation.check_image(x, _NAME)
    depth(params)


def _plain_forward(block: Block, params: Any, x: jax.Array, unroll: int = 1):
    def step(carry, p):
        h, log_det = carry
        h, block_log_det = block.forward(p, h)
        return (h, log_det + block_log_det), None

    log_det = jnp.zeros(_validation.event_batch_shape(x), x.dtype)
    (y, log_det), _ = jax.lax.scan(step, (x, log_det), params, unroll=unroll)
    return y, log_det


def _memory_saving_forward(block: Block, unroll: int = 1) -> OpFn:
    """The custom-VJP stack for one block type (built once per call site)."""

    @jax.custom_vjp
    def run(params, x):
        return _plain_forward(block, params, x, unroll)

    def run_fwd(params, x):
        y, log_det = _plain_forward(block, params, x, unroll)
        return (y, log_det), (params, y)

    def run_bwd(residuals, cotangents):
        params, y = residuals
        y_bar, log_det_bar = cotangents

        def step(carry, p):
            h_out, h_bar = carry
            h_in, _ = block.inverse(p, h_out)
            _, pull_back = jax.vjp(block.forward, p, h_in)
            p_bar, h_in_bar = pull_back((h_bar, log_det_bar))
            return (h_in, h_in_bar), p_bar

        (_, x_bar), params_bar = jax.lax.scan(
            step, (y, y_bar), params, reverse=True, unroll=unroll
        )
        return params_bar, x_bar

    run.defvjp(run_fwd, run_bwd)
    return run


def forward(
    block: Block,
    params: Any,
    x: jax.Array,
    *,
    memory_saving: bool = True,
    unroll: int = 1,
) -> tuple[jax.Array, jax.Array]:
    """Runs the stacked blocks in order.

    Args:
      block: the block's forward and inverse (an op module or a `Block`).
      params: the block parameters stacked along a leading depth axis.
      x: input of shape (..., height, width, channels).
      memory_saving: recompute activations from outputs in the backward pass
        (reverse mode only) instead of storing them.
      unroll: blocks per iteration of the compiled loop (`jax.lax.scan`'s
        `unroll`; default 1); the depth makes every block one iteration.

    Returns:
      y of the shape of x and log|det dy/dx| of the batch shape.

    Raises:
      ValueError: wrong rank, non-floating dtype or parameters without a common
        leading depth axis (and the block's own shape errors).

    Examples:
      >>> import jax, jax.numpy as jnp
      >>> from jinvnet.ops import revnet
      >>> params = init(jax.random.PRNGKey(0), 4,
      ...               lambda k: revnet.init(k, 4, hidden_channels=8))
      >>> x = jnp.ones((2, 4, 4, 4))
      >>> y, log_det = forward(revnet.additive, params, x)
      >>> x_back, _ = inverse(revnet.additive, params, y)
      >>> bool(jnp.allclose(x_back, x, rtol=0, atol=1e-5 * jnp.abs(x).max()))
      True
    """
    _check(params, x)
    _validation.check_positive_int(unroll, _NAME, "unroll")
    if memory_saving:
        return _memory_saving_forward(block, unroll)(params, x)
    return _plain_forward(block, params, x, unroll)


def inverse(
    block: Block, params: Any, y: jax.Array, *, unroll: int = 1
) -> tuple[jax.Array, jax.Array]:
    """Inverts the blocks from the last to the first; returns (x, log|det dx/dy|).

    `unroll` as in `forward`.
    """
    _check(params, y)
    _validation.check_positive_int(unroll, _NAME, "unroll")

    def step(carry, p):
        h, log_det = carry
        h, block_log_det = block.inverse(p, h)
        return (h, log_det + block_log_det), None

    log_det = jnp.zeros(_validation.event_batch_shape(y), y.dtype)
    (x, log_det), _ = jax.lax.scan(
        step, (y, log_det), params, reverse=True, unroll=unroll
    )
    return x, log_det
