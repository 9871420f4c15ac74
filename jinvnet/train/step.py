"""The train state and the generic, data-parallel train and evaluation steps.

Example (a doctest): the step `fit` and `train_and_evaluate` run, by hand.

    >>> import jax, jax.numpy as jnp, optax
    >>> from jinvnet import models
    >>> from jinvnet.train import parallel
    >>> from jinvnet.train.objectives import Objective
    >>> model = models.FlowDensity(models.single_scale_glow(num_steps=1,
    ...                                                     hidden_channels=8))
    >>> x = jax.random.uniform(jax.random.PRNGKey(0), (8, 4, 4, 1)) - 0.5
    >>> variables = model.init(jax.random.PRNGKey(1), x)
    >>> optimizer, objective = optax.adam(1e-3), Objective("density", num_bins=256)
    >>> state = TrainState.create(variables, optimizer, jax.random.PRNGKey(2), ema=True)
    >>> mesh = parallel.data_mesh()
    >>> train_step = make_train_step(model, objective, optimizer, mesh, ema_decay=0.9)
    >>> batch = {"image": x}
    >>> state, metrics = train_step(state, batch)
    >>> int(state.step), sorted(metrics)[:2]
    (1, ['bits_per_dim', 'grad_norm'])
    >>> loss_fn = mean_loss(model, objective, state.constants, batch, None)
    >>> loss, _ = loss_fn(state.params)             # what the step differentiates
    >>> eval_step = make_eval_step(model, objective, mesh)
    >>> sums = eval_step(state.variables(), {**batch, "mask": jnp.ones(8)})
    >>> bool(jnp.isclose(sums["loss"] / sums["count"], loss, rtol=1e-5))
    True
    >>> float(ema_warmup_decay(0.999, jnp.array(1)))   # (1 + 1) / (10 + 1)
    0.1818181872367859
"""

from typing import Any, Callable

import flax.linen as nn
import flax.struct
import jax
import jax.numpy as jnp
import optax
from jax.sharding import Mesh

from jinvnet.train.objectives import LossFn
from jinvnet.train.parallel import batch_sharded, replicate, replicated


class TrainState(flax.struct.PyTreeNode):
    """Everything that changes during training (all of it is checkpointed).

    Attributes:
      step: number of optimiser steps taken, int32 scalar.
      params: the trained "params" collection.
      constants: every other variable collection (fixed permutations, signs), never
        trained but needed by `apply`.
      opt_state: the optax state.
      ema_params: exponential moving average of params ({} when EMA is off), with
        the decay warmed up by `ema_warmup_decay`.
      rng: raw uint32 PRNG key data, split once per step.
    """

    step: jax.Array
    params: Any
    constants: Any
    opt_state: Any
    ema_params: Any
    rng: jax.Array

    @classmethod
    def create(
        cls,
        variables: dict,
        optimizer: optax.GradientTransformation,
        rng: jax.Array,
        *,
        ema: bool,
    ) -> "TrainState":
        """A step-0 state from `model.init`'s variables; `rng` a raw uint32 key."""
        variables = dict(variables)
        params = variables.pop("params")
        return cls(
            step=jnp.zeros((), jnp.int32),
            params=params,
            constants=variables,
            opt_state=optimizer.init(params),
            ema_params=jax.tree_util.tree_map(jnp.copy, params) if ema else {},
            rng=rng,
        )

    def variables(self, use_ema: bool = False) -> dict:
        """The variables to `apply` the model with (EMA params if asked and kept)."""
        params = self.ema_params if use_ema and self.ema_params else self.params
        return {"params": params, **self.constants}


def ema_warmup_decay(decay: float, step: jax.Array) -> jax.Array:
    """The EMA decay at update `step` (1-based): min(decay, (1 + step) / (10 + step)).

    A fixed decay d would leave weight d^t on the initial parameters after t
    steps (0.998^500 = 0.37), so early evaluations of the EMA would score a model
    close to its initialisation. The warm-up (as TensorFlow's
    `ExponentialMovingAverage(num_updates=...)`) averages over about the last
    t / 10 steps early on and reaches `decay` after 10 / (1 - decay) steps.
    """
    step = jnp.asarray(step, jnp.float32)
    return jnp.minimum(decay, (1.0 + step) / (10.0 + step))


def mean_loss(
    model: nn.Module,
    objective: LossFn,
    constants: dict,
    batch: dict,
    rng: jax.Array | None,
) -> Callable[[Any], tuple[jax.Array, dict]]:
    """The function a train step differentiates, of the parameters alone.

    Returns:
      loss_fn(params) -> (mean of the objective's per-example "loss" over `batch`,
      the per-example terms), with the non-trained collections `constants` and the
      objective's `rng` held fixed.
    """

    def loss_fn(params):
        terms = objective(model, {"params": params, **constants}, batch, rng)
        return jnp.mean(terms["loss"]), terms

    return loss_fn


def make_train_step(
    model: nn.Module,
    objective: LossFn,
    optimizer: optax.GradientTransformation,
    mesh: Mesh,
    *,
    ema_decay: float = 0.0,
) -> Callable[[TrainState, dict], tuple[TrainState, dict]]:
    """A jit-compiled step: gradient of the mean loss over the global batch, update.

    The state is replicated and the batch split over `mesh`; the result does not
    depend on the number of devices (up to float rounding of the reduction).

    Returns:
      step(state, batch) -> (new_state, metrics): metrics are scalar means over the
      global batch, plus "grad_norm". A state not yet replicated over `mesh` (one
      from `TrainState.create`) is replicated first, so the step compiles once.
    """

    def step(state: TrainState, batch: dict) -> tuple[TrainState, dict]:
        rng, step_rng = jax.random.split(state.rng)

        loss_fn = mean_loss(model, objective, state.constants, batch, step_rng)
        (_, terms), grads = jax.value_and_grad(loss_fn, has_aux=True)(state.params)
        updates, opt_state = optimizer.update(grads, state.opt_state, state.params)
        params = optax.apply_updates(state.params, updates)
        ema_params = state.ema_params
        if ema_decay > 0:
            decay = ema_warmup_decay(ema_decay, state.step + 1)
            ema_params = optax.incremental_update(params, ema_params, 1.0 - decay)
        new_state = state.replace(
            step=state.step + 1,
            params=params,
            opt_state=opt_state,
            ema_params=ema_params,
            rng=rng,
        )
        metrics = {key: jnp.mean(value) for key, value in terms.items()}
        metrics["grad_norm"] = optax.tree_utils.tree_norm(grads)
        return new_state, metrics

    jitted = jax.jit(
        step,
        in_shardings=(replicated(mesh), batch_sharded(mesh)),
        out_shardings=(replicated(mesh), replicated(mesh)),
    )
    on_mesh = replicated(mesh)

    def run(state: TrainState, batch: dict) -> tuple[TrainState, dict]:
        # A state straight from `TrainState.create` sits on one device, and a jitted
        # function keys its cache on its inputs' shardings: the second call, with
        # the replicated state the first returned, would compile the step again
        # (seconds to minutes). Replicating it first keeps it at one compile.
        if getattr(state.step, "sharding", None) != on_mesh:
            state = replicate(state, mesh)
        return jitted(state, batch)

    run.jitted = jitted  # the compiled function, e.g. for `run.jitted.lower(...)`
    return run


def make_eval_step(
    model: nn.Module, objective: LossFn, mesh: Mesh
) -> Callable[[dict, dict], dict]:
    """A jit-compiled step returning mask-weighted sums of every metric and "count"."""

    def step(variables: dict, batch: dict) -> dict:
        mask = batch.pop("mask")
        terms = objective(model, variables, batch, None)
        sums = {key: jnp.sum(value * mask) for key, value in terms.items()}
        sums["count"] = jnp.sum(mask)
        return sums

    return jax.jit(
        step,
        in_shardings=(replicated(mesh), batch_sharded(mesh)),
        out_shardings=replicated(mesh),
    )
