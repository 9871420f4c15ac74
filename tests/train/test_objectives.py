"""The generic step for density, classification and hybrid objectives."""

import flax.linen as nn
import jax
import jax.numpy as jnp
import numpy as np
import pytest

from jinvnet import data, models, train
from tests.training import train_metrics


class _Classifier(nn.Module):
    @nn.compact
    def __call__(self, x):
        return nn.Dense(10)(x.reshape(x.shape[0], -1))


class _Hybrid(nn.Module):
    @nn.compact
    def __call__(self, x):
        density = models.FlowDensity(
            models.single_scale_glow(num_steps=1, hidden_channels=4)
        )(x)
        logits = nn.Dense(10)(x.reshape(x.shape[0], -1))
        return density, logits


def _batch():
    dataset = data.digits()
    return next(data.BatchIterator(dataset.train, batch_size=16, num_bins=17, seed=0))


@pytest.mark.parametrize(
    "kind, model", [("classification", _Classifier()), ("hybrid", _Hybrid())]
)
def test_step_trains_and_reports_accuracy(kind, model):
    history = train_metrics(
        model, kind, _batch(), steps=5, learning_rate=1e-2, num_bins=17
    )
    losses, metrics = [m["loss"] for m in history], history[-1]
    assert losses[-1] < losses[0]
    assert 0.0 <= float(metrics["accuracy"]) <= 1.0
    if kind == "hybrid":
        np.testing.assert_allclose(
            metrics["loss"],
            metrics["cross_entropy"] + metrics["bits_per_dim"],
            rtol=1e-5,
        )


def test_eval_step_weights_by_mask():
    model = _Classifier()
    batch = _batch()
    variables = model.init(jax.random.PRNGKey(0), batch["image"])
    objective = train.Objective("classification", num_bins=17)
    mesh = train.data_mesh()
    eval_step = train.make_eval_step(model, objective, mesh)
    mask = np.zeros(16, np.float32)
    mask[:5] = 1
    sums = eval_step(variables, train.shard_batch({**batch, "mask": mask}, mesh))
    per_example = objective(
        model, variables, {k: jnp.asarray(v) for k, v in batch.items()}, None
    )
    np.testing.assert_allclose(sums["count"], 5)
    np.testing.assert_allclose(sums["loss"], np.sum(per_example["loss"][:5]), rtol=1e-5)


def test_raises_if_unknown_objective():
    with pytest.raises(ValueError, match="objective must be one of"):
        train.Objective("regression")
