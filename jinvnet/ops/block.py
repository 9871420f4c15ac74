"""`Block`: an op given as its two functions rather than as a module.

Every op of `jinvnet.ops` is a module with `forward(params, x) -> (y, log_det)` and
`inverse(params, y) -> (x, log_det)`. Where one module offers several variants (the
additive and affine RevNet blocks, i-RevNet's downsampling block, the FFT
convolution's log-det paths), each variant is a `Block` of the same two functions,
usable wherever an op module is: `bijectors.OpBijector`, `ops.reversible_stack`.

Example (any forward / inverse pair of functions of (params, x)):

    >>> import jax.numpy as jnp
    >>> def double(params, x):
    ...     return 2 * x, jnp.full(x.shape[:-3], x[0].size * jnp.log(2.0))
    >>> def halve(params, y):
    ...     return y / 2, jnp.full(y.shape[:-3], -y[0].size * jnp.log(2.0))
    >>> block = Block(forward=double, inverse=halve)
    >>> y, _ = block.forward(None, jnp.ones((1, 2, 2, 1)))
    >>> block.inverse(None, y)[0].tolist()
    [[[[1.0], [1.0]], [[1.0], [1.0]]]]
"""

from typing import Any, Callable, NamedTuple

import jax

OpFn = Callable[[Any, jax.Array], tuple[jax.Array, jax.Array]]


class Block(NamedTuple):
    """The forward and inverse functions of an op (each returns the pair)."""

    forward: OpFn
    inverse: OpFn
