"""A short training run for scripts: the trainer's step over any stream of batches.

`train_and_evaluate` runs a whole experiment from a config (checkpoints, EMA,
evaluation, figures). Experiments that only need a model trained for a few hundred
steps (to time or probe its inverse, say) use `fit` instead: the same jit-compiled,
data-parallel step (`make_train_step`) and the same objectives (`Objective`: bits/dim
for densities, cross-entropy for classifiers), no files written.

Example (a doctest): twenty Adam steps of a small Glow on the embedded digits.

    >>> import optax
    >>> from jinvnet import data, models
    >>> from jinvnet.train.objectives import Objective
    >>> digits = data.datasets.digits()
    >>> batches = data.BatchIterator(digits.train, batch_size=64, num_bins=17, seed=0)
    >>> model = models.FlowDensity(models.single_scale_glow(num_steps=2,
    ...                                                     hidden_channels=16))
    >>> result = fit(model, batches, objective=Objective("density", num_bins=17),
    ...              optimizer=optax.adam(3e-3), num_steps=20)
    >>> isinstance(result, FitResult), len(result.losses)
    (True, 20)
    >>> bool(result.losses[-1] < result.losses[0])   # bits/dim went down
    True
    >>> issubclass(NonFiniteFitLossError, FloatingPointError)   # .step names the step
    True
"""

import math
from typing import Callable, Iterator, NamedTuple

import flax.linen as nn
import jax
import jax.numpy as jnp
import optax

from jinvnet.train import parallel
from jinvnet.train.objectives import LossFn
from jinvnet.train.step import TrainState, make_train_step


class FitResult(NamedTuple):
    """What `fit` returns.

    Attributes:
      initial: the variables `model.init` made from the first batch.
      variables: the trained variables.
      losses: the mean training loss of every step, in order.
    """

    initial: dict
    variables: dict
    losses: list[float]


class NonFiniteFitLossError(FloatingPointError):
    """The training loss became NaN or infinite; the message names the step.

    Attributes:
      step: the 1-based step whose loss was not finite.
    """

    def __init__(self, message: str, step: int):
        super().__init__(message)
        self.step = step


def fit(
    model: nn.Module,
    batches: Iterator[dict],
    *,
    objective: LossFn,
    optimizer: optax.GradientTransformation,
    num_steps: int,
    seed: int = 0,
    before_step: Callable[[int, dict, dict], None] | None = None,
) -> FitResult:
    """Initialises `model` on the first batch, then takes `num_steps` optimiser steps.

    Args:
      model: a Flax module the objective understands (e.g. a `FlowDensity`).
      batches: dicts with "image" (and "label" for classifiers), as
        `data.BatchIterator` yields them; the first one initialises the model
        (ActNorm's data-dependent start), the next `num_steps` are trained on.
      objective: e.g. `Objective("density", num_bins=...)`.
      optimizer: an optax transformation.
      num_steps: optimiser steps (>= 0).
      seed: the PRNG key of the initialisation, which also seeds the steps' keys.
      before_step: called as `before_step(i, variables, batch)` before step i
        (0-based) with the variables the step starts from and its batch: a hook
        for what an experiment measures along the way (e.g. comparing two
        gradients) without a training loop of its own.

    Returns:
      `FitResult(initial, variables, losses)`.

    Raises:
      ValueError: num_steps < 0.
      NonFiniteFitLossError: the loss became NaN or infinite (the step is named).
    """
    if num_steps < 0:
        raise ValueError(f"fit: num_steps must be >= 0, got {num_steps}")
    mesh = parallel.data_mesh()
    key = jax.random.PRNGKey(seed)
    initial = model.init(key, jnp.asarray(next(batches)["image"]))
    state = TrainState.create(initial, optimizer, key, ema=False)
    state = parallel.replicate(state, mesh)
    step = make_train_step(model, objective, optimizer, mesh)
    losses = []
    for i in range(num_steps):
        batch = next(batches)
        if before_step is not None:
            before_step(i, state.variables(), batch)
        state, metrics = step(state, parallel.shard_batch(batch, mesh))
        loss = float(metrics["loss"])
        if not math.isfinite(loss):
            raise NonFiniteFitLossError(f"fit: loss is {loss} at step {i + 1}", i + 1)
        losses.append(loss)
    return FitResult(initial, state.variables(), losses)
