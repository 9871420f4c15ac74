"""Model tests train through the trainer's own step (`jinvnet.train`), not a copy."""

import jax
import numpy as np
import optax

from jinvnet import train


def train_metrics(
    model,
    kind: str,
    batch: dict,
    *,
    steps: int,
    learning_rate: float,
    num_bins: int = 256,
) -> list[dict[str, float]]:
    """Metrics of each of `steps` Adam steps of `make_train_step` on one batch.

    Args:
      model: a Flax module (`FlowDensity` for "density", logits for
        "classification").
      kind: the `train.Objective` kind.
      batch: {"image": (n, h, w, c) float, "label": (n,) int for classifiers}.
      steps: number of steps.
      learning_rate: Adam's learning rate.
      num_bins: pixel levels, for the density objective's bits/dim.
    """
    batch = {key: np.asarray(value) for key, value in batch.items()}
    variables = model.init(jax.random.PRNGKey(0), batch["image"])
    optimizer = optax.adam(learning_rate)
    mesh = train.data_mesh()
    step = train.make_train_step(
        model, train.Objective(kind, num_bins), optimizer, mesh
    )
    state = train.TrainState.create(
        variables, optimizer, jax.random.PRNGKey(1), ema=False
    )
    history = []
    for _ in range(steps):
        state, metrics = step(state, train.shard_batch(batch, mesh))
        history.append({key: float(value) for key, value in metrics.items()})
    return history


def train_losses(model, kind: str, batch: dict, **kwargs) -> list[float]:
    """The losses of `train_metrics` (same arguments)."""
    return [metrics["loss"] for metrics in train_metrics(model, kind, batch, **kwargs)]
