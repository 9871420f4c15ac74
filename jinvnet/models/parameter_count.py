"""Parameter counts of a model: stored scalars, and the free ones that train.

Some layers store entries their masks hold at zero, or that another parameter
replaces: CInC's centre tap above the diagonal and its diagonal (log_diag), the
LU 1x1's triangles and diagonals, the emerging convolution's masked taps (seed
003 counts 9n^2 - n(n - 1)/2 and 10n^2 - n free parameters for them). A module
with such parameters has a `free_mask()` method returning, for each of its params,
the 0/1 mask of the trained entries (from the op's `free_mask`); `free_param_count`
finds those modules by intercepting the model's calls, so module names play no
part.
"""

import math
from typing import Any

import flax.linen as nn
import jax
import numpy as np


def count_params(params: Any) -> int:
    """Number of scalars in a parameter pytree (e.g. `variables["params"]`).

    Args:
      params: the "params" collection, as arrays or `jax.ShapeDtypeStruct`s (from
        `jax.eval_shape(model.init, ...)`, which costs no compute).

    Returns:
      The count.

    Examples:
      >>> import jax.numpy as jnp
      >>> count_params({"a": jnp.zeros((3, 4)), "b": [jnp.zeros(5)]})
      17
    """
    return sum(math.prod(leaf.shape) for leaf in jax.tree_util.tree_leaves(params))


def free_param_count(model: nn.Module, *args: Any, **kwargs: Any) -> int:
    """Parameters of `model` that training changes: stored ones minus masked ones.

    Initialises the model on `args` (arrays or `jax.ShapeDtypeStruct`s) with
    `jax.eval_shape`, so it costs no compute, and asks every module with a
    `free_mask()` method for its masks.

    Returns:
      `count_params(params)` less the entries the masks hold at zero.

    Examples:
      >>> import jax, jax.numpy as jnp
      >>> from jinvnet import models
      >>> x = jax.ShapeDtypeStruct((1, 4, 4, 2), jnp.float32)
      >>> free_param_count(models.CInCConv(), x)  # 9 n^2 - n (n - 1) / 2, n = 2
      35
    """
    # Keyed by the root scope too: a module that initialises copies of a step
    # inside itself (ScannedSteps) runs each copy in a root of its own, at the same
    # relative path (the roots are kept alive so that their ids stay unique). Calls
    # that apply such a copy during init (not initialising) own no parameters.
    masks: dict[tuple, dict] = {}
    roots = []

    def record(next_fun, call_args, call_kwargs, context):
        out = next_fun(*call_args, **call_kwargs)
        module = context.module
        if (
            context.method_name == "__call__"
            and hasattr(module, "free_mask")
            and module.is_initializing()
        ):
            root = module.scope.root
            roots.append(root)
            masks[id(root), module.path] = module.free_mask()
        return out

    with nn.intercept_methods(record):
        variables = jax.eval_shape(model.init, jax.random.PRNGKey(0), *args, **kwargs)
    masked = sum(
        mask.size - int(np.sum(mask))
        for per_module in masks.values()
        for mask in per_module.values()
    )
    return count_params(variables["params"]) - masked
