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
steps' (one tree with a leading axis instead of D named trees), so a checkpoint
is for one layout.

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
"""

from typing import Callable

import distrax
import flax.linen as nn
import jax
import jax.numpy as jnp

from jinvnet import _validation, bijectors
from jinvnet.ops import gemm_conv
from jinvnet.ops.block import Block

_NAME = "ScannedSteps"


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
