"""Initial values that are computed once at `init` and only shape-checked after."""

from typing import Callable, TypeVar

import chex
import flax.linen as nn

T = TypeVar("T")


def initial_value(
    module: nn.Module, make: Callable[[chex.PRNGKey], T]
) -> Callable[[chex.PRNGKey], T]:
    """Returns a Flax initialiser for `module`'s parameters drawn jointly by `make`.

    Several parameters (the LU factors of one matrix, say) must come from one draw.
    At `init` the draw happens once with the module's "params" key and every
    parameter's initialiser returns it; at `apply` Flax only evaluates initialisers
    abstractly to check shapes, so `make` itself is returned.
    """
    if module.is_initializing():
        value = make(module.make_rng("params"))
        return lambda _: value
    return make
