"""`Block`: an op given as its two functions rather than as a module.

Every op of `jinvnet.ops` is a module with `forward(params, x) -> (y, log_det)` and
`inverse(params, y) -> (x, log_det)`. Where one module offers several variants (the
additive and affine RevNet blocks, i-RevNet's downsampling block, the FFT
convolution's log-det paths), each variant is a `Block` of the same two functions,
usable wherever an op module is: `bijectors.OpBijector`, `ops.reversible_stack`.
"""

from typing import Any, Callable, NamedTuple

import jax

OpFn = Callable[[Any, jax.Array], tuple[jax.Array, jax.Array]]


class Block(NamedTuple):
    """The forward and inverse functions of an op (each returns the pair)."""

    forward: OpFn
    inverse: OpFn
