"""Opt-in value validation: run any jinvnet function with finiteness checks.

Shape and dtype errors are always raised at trace time. Values are not checked inside
`jit` by default (as in distrax), so a NaN input propagates to NaN outputs and a
singular layer gives log_det = -inf. Wrap a function with `checked` to turn such
values into a `checkify.JaxRuntimeError` that names the offending array, under `jit`
too.
"""

import functools
from typing import Any, Callable

import jax
import jax.numpy as jnp
from jax.experimental import checkify


def check_finite(tree: Any, name: str) -> None:
    """Adds a checkify check that every floating leaf of `tree` is finite."""
    for path, leaf in jax.tree_util.tree_leaves_with_path(tree):
        leaf = jnp.asarray(leaf)
        if not jnp.issubdtype(leaf.dtype, jnp.floating):
            continue
        bad = jnp.sum(~jnp.isfinite(leaf))
        checkify.check(
            bad == 0,
            f"{name}{jax.tree_util.keystr(path)} contains non-finite values "
            "({bad} of {size})",
            bad=bad,
            size=jnp.asarray(leaf.size),
        )


def checked(fn: Callable[..., Any], *, jit: bool = True) -> Callable[..., Any]:
    """Returns `fn` that raises if any input or output holds NaN or inf.

    Args:
      fn: a function of arrays, e.g. `bijector.forward_and_log_det` or
        `functools.partial(ops.actnorm.forward, params)`.
      jit: compile the checked function (default True).

    Returns:
      A function with the signature of `fn` that raises
      `jax.experimental.checkify.JaxRuntimeError` naming the first non-finite input
      ("input...") or output ("output...").

    Examples:
      >>> import jax.numpy as jnp
      >>> from jinvnet import ops
      >>> forward = checked(ops.squeeze.forward)
      >>> forward(jnp.zeros((1, 2, 2, 1)))[0].shape
      (1, 1, 1, 4)
    """

    def with_checks(*args):
        check_finite(args, "input")
        out = fn(*args)
        check_finite(out, "output")
        return out

    checkified = checkify.checkify(with_checks)
    if jit:
        checkified = jax.jit(checkified)

    @functools.wraps(fn)
    def run(*args):
        error, out = checkified(*args)
        error.throw()
        return out

    return run
