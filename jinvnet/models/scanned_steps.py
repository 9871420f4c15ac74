"""Identical flow steps as one `lax.scan` over stacked parameters (issue 16 item 3).

A level of Glow / CInC Flow repeats one step D times. Written out, XLA compiles D
copies of the step (slow to compile for D = 32); `ScannedSteps` keeps one copy
and loops over the steps' parameters, stacked on a leading axis of length D:

    x_{d+1} = f(p_d, x_d),  d = 0 .. D-1,    log|det| = sum_d log|det df/dx(p_d, x_d)|

(`ops.reversible_stack`, here with stored activations). At `init` the D steps are
initialised one after the other on the data, as written-out steps are (ActNorm's
data-dependent start sees its own input), then stacked. The step is any module
whose `__call__(x)` returns a bijector; `unroll` steps run per loop iteration
(`lax.scan`'s `unroll`). The parameters differ in layout from the written-out
steps': one tree `steps/steps/...` with a leading axis of length D instead of D
named trees `step0/...` .. `step{D-1}/...`. `stack_steps` and `unstack_steps`
convert any tree between the two (variables, optimiser states, EMA copies), which
is how checkpoints of either layout restore into the other (`train.loop`).

Example (a doctest): four Glow steps, scanned.

    >>> import functools, jax, jax.numpy as jnp
    >>> from jinvnet.models import glow_step
    >>> x = jax.random.normal(jax.random.PRNGKey(0), (2, 4, 4, 4))
    >>> steps = ScannedSteps(functools.partial(glow_step, hidden_channels=8), 4)
    >>> variables = steps.init(jax.random.PRNGKey(1), x)
    >>> variables["params"]["steps"]["layers_0"]["log_scale"].shape   # ActNorm's
    (4, 4)
    >>> bijector = steps.apply(variables, x)
    >>> y, log_det = bijector.forward_and_log_det(x)
    >>> bool(jnp.allclose(bijector.inverse(y), x, atol=1e-5)), log_det.shape
    (True, (2,))
    >>> from jinvnet.models import glow                # a flow's two layouts
    >>> scanned = glow(num_levels=1, steps_per_level=3, hidden_channels=8)
    >>> written = glow(num_levels=1, steps_per_level=3, hidden_channels=8,
    ...                scan_steps=False)
    >>> x = jax.random.normal(jax.random.PRNGKey(0), (2, 4, 4, 1))
    >>> variables = scanned.init(jax.random.PRNGKey(1), x)
    >>> variables["params"]["level0"]["steps"]["steps"]["ActNorm_0"]["loc"].shape
    (3, 4)
    >>> unstacked = unstack_steps(variables)            # level0/step0 .. step2
    >>> sorted(unstacked["params"]["level0"])
    ['step0', 'step1', 'step2']
    >>> y_scan = scanned.apply(variables, x).forward(x)
    >>> bool(jnp.allclose(written.apply(unstacked, x).forward(x), y_scan, atol=1e-5))
    True
    >>> jax.tree_util.tree_all(jax.tree_util.tree_map(
    ...     jnp.array_equal, stack_steps(unstacked), variables))
    True
"""

import re
from typing import Callable

import distrax
import flax.linen as nn
import jax
import jax.numpy as jnp

from jinvnet import _validation, bijectors
from jinvnet.ops import gemm_conv
from jinvnet.ops.block import Block

_NAME = "ScannedSteps"
_STEP_NAME = re.compile(r"step(\d+)")  # the written-out steps' module names


def _is_dict(node) -> bool:
    return isinstance(node, dict)


def _stack_dict(tree: dict) -> dict:
    tree = {k: stack_steps(v) for k, v in tree.items()}
    names = {int(m.group(1)): k for k in tree if (m := _STEP_NAME.fullmatch(k))}
    if not names:
        return tree
    if sorted(names) != list(range(len(names))) or "steps" in tree:
        raise ValueError(
            f"{_NAME}: steps {sorted(names)} next to {sorted(tree)} are not the "
            "written-out layout step0 .. step{D-1}"
        )
    steps = [tree.pop(names[d]) for d in range(len(names))]
    tree["steps"] = {"steps": jax.tree_util.tree_map(lambda *v: jnp.stack(v), *steps)}
    return tree


def _unstack_dict(tree: dict) -> dict:
    tree = {k: unstack_steps(v) for k, v in tree.items()}
    scanned = tree.get("steps")
    if not (_is_dict(scanned) and set(scanned) == {"steps"}):
        return tree
    stacked = tree.pop("steps")["steps"]
    length = {leaf.shape[0] for leaf in jax.tree_util.tree_leaves(stacked)}
    if len(length) != 1:
        raise ValueError(f"{_NAME}: stacked steps of unequal lengths {sorted(length)}")
    for d in range(length.pop()):
        tree[f"step{d}"] = jax.tree_util.tree_map(lambda v, d=d: v[d], stacked)
    return tree


def stack_steps(tree):
    """A `MultiScaleFlow`'s variables (or any pytree) from written-out to scanned.

    Every dict (at any depth, also inside optimiser states) holding `step0` ..
    `step{D-1}` gets them replaced by `{"steps": {"steps": stacked}}`, each leaf
    stacked on a new leading axis of length D. Other entries are kept.

    Raises:
      ValueError: step numbers with gaps, or a `steps` entry next to them.
    """
    return jax.tree_util.tree_map(
        lambda n: _stack_dict(n) if _is_dict(n) else n, tree, is_leaf=_is_dict
    )


def unstack_steps(tree):
    """The inverse of `stack_steps`: `steps/steps` (leading axis D) -> `step{d}`.

    Raises:
      ValueError: stacked leaves of different lengths.
    """
    return jax.tree_util.tree_map(
        lambda n: _unstack_dict(n) if _is_dict(n) else n, tree, is_leaf=_is_dict
    )


def _init_steps(template: nn.Module, key: jax.Array, x: jax.Array, length: int) -> dict:
    """Initialises `length` steps in order on the data x, then stacks them."""
    h, per_step = x, []
    for step_key in jax.random.split(key, length):
        bijector, variables = template.init_with_output(step_key, h)
        h = bijector.forward(h)
        per_step.append(variables)
    return jax.tree_util.tree_map(lambda *v: jnp.stack(v), *per_step)


class ScannedSteps(nn.Module):
    """`length` steps made by `make_step`, applied in order as one scan.

    Attributes:
      make_step: builds the module of one step (called without arguments); its
        `__call__(x)` returns a bijector that keeps x's shape.
      length: D, the number of steps.
      unroll: steps per iteration of the compiled loop (default 1; D unrolls it
        fully, the same program as written-out steps).
    """

    make_step: Callable[..., nn.Module]
    length: int
    unroll: int = 1

    @nn.compact
    def __call__(self, x: jax.Array | jax.ShapeDtypeStruct) -> distrax.Bijector:
        """x: a batch (batch, height, width, channels) at `init`, or its shape."""
        _validation.check_positive_int(self.length, _NAME, "length")
        _validation.check_positive_int(self.unroll, _NAME, "unroll")
        template = self.make_step().clone(parent=None)  # not a child: no params
        if self.is_initializing() and not self.has_variable("params", "steps"):
            stacked = _init_steps(template, self.make_rng("params"), x, self.length)
            variables = {"params": self.param("steps", lambda _: stacked["params"])}
            for collection, tree in stacked.items():
                if collection != "params":
                    self.variable(collection, "steps", lambda t=tree: t)
                    variables[collection] = tree
        else:  # as stored (a second call at init, or apply): no init to trace
            variables = {c: tree["steps"] for c, tree in self.variables.items()}

        # Traced as a loop body: on the CPU its convolutions take the GEMM form,
        # whose gradients XLA runs fast inside loops (`ops.gemm_conv.looped`).
        def forward(step_variables, h):
            with gemm_conv.looped():
                return template.apply(step_variables, h).forward_and_log_det(h)

        def inverse(step_variables, h):
            with gemm_conv.looped():
                return template.apply(step_variables, h).inverse_and_log_det(h)

        return bijectors.ReversibleStack(
            variables,
            block=Block(forward, inverse),
            memory_saving=False,
            unroll=self.unroll,
        )
