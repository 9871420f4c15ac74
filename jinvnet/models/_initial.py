"""Initial values that are computed once at `init` and only shape-checked after."""

from typing import Callable, TypeVar

import chex
import flax.linen as nn
import jax
import jax.numpy as jnp

T = TypeVar("T")


def initial_value(
    module: nn.Module, make: Callable[[chex.PRNGKey], T]
) -> Callable[[chex.PRNGKey], T]:
    """Returns a Flax initialiser for `module`'s parameters drawn jointly by `make`.

    Several parameters (the LU factors of one matrix, say) must come from one draw.
    At `init` the draw happens once with the module's "params" key and every
    parameter's initialiser returns it. At `apply` Flax evaluates each
    parameter's initialiser abstractly (`jax.eval_shape`) to check the stored
    value's shape: `make` is traced once here, and every parameter's check then
    traces only zeros of those shapes, instead of the whole draw once per
    parameter (18 draws of three networks for one quad coupling; tracing the
    CInC + quad train step took 2.7-2.8 s instead of 3.0-3.2 s, docs/benchmarks.md).
    """
    if module.is_initializing():
        value = make(module.make_rng("params"))
        return lambda _: value
    shapes = jax.eval_shape(make, jax.random.key(0))
    return lambda _: jax.tree_util.tree_map(
        lambda s: jnp.zeros(s.shape, s.dtype), shapes
    )
