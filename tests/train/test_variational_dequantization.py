"""The trainer's variational dequantisation option (data.dequantization)."""

import json
import os

import jax
import jax.numpy as jnp
import numpy as np
import orbax.checkpoint as ocp
import pytest

from jinvnet import data, models, train
from jinvnet.train import loop
from jinvnet.train.objectives import Objective
from tests.train._tiny import small_digits, tiny_config


def _variational(**overrides):
    config = tiny_config(checkpoint_every=2, log_every=1, **overrides)
    config.data.dequantization = "variational"
    config.data.dequantizer_hidden_channels = 4
    config.data.dequantizer_steps = 2
    config.optim.ema_decay = 0.9
    return config


def _state(workdir, step):
    path = os.path.join(os.path.abspath(workdir), "checkpoints", str(step), "state")
    return ocp.StandardCheckpointer().restore(path)


@pytest.mark.slow
def test_trains_writes_finite_bound_and_resumes_exactly(tmp_path):
    straight = train.train_and_evaluate(
        _variational(num_steps=4, figures=True, sample_check_draws=8),
        str(tmp_path / "straight"),
        dataset=small_digits(),
        progress=False,
    )
    assert straight["dequantization"] == "variational"
    test = straight["test"]
    for key in ("loss", "bits_per_dim", "nll", "dequantizer_log_q"):
        assert np.isfinite(test[key]), key
    assert test["loss"] == test["bits_per_dim"]
    assert 0 < test["bits_per_dim"] < 2 * np.log2(17)
    assert straight["samples_drawn_T1.0"] == 8  # figures sample the density
    assert straight["reconstruction_max_abs_error"] < 1e-4
    state = _state(tmp_path / "straight", 4)
    for tree in ("params", "ema_params"):
        assert set(state[tree]) == {"density", "dequantizer"}, tree

    # Stop after step 2, run again to step 4: the same parameters as straight.
    workdir = str(tmp_path / "resumed")
    train.train_and_evaluate(
        _variational(num_steps=2), workdir, dataset=small_digits(), progress=False
    )
    resumed = train.train_and_evaluate(
        _variational(num_steps=4), workdir, dataset=small_digits(), progress=False
    )
    assert resumed["step"] == 4
    with open(os.path.join(workdir, "metrics.jsonl")) as f:
        steps = [r["step"] for r in map(json.loads, f) if r["split"] == "train"]
    assert steps == [1, 2, 3, 4]  # the second call continued from step 2
    a, b = _state(tmp_path / "straight", 4), _state(workdir, 4)
    assert jax.tree_util.tree_structure(a) == jax.tree_util.tree_structure(b)
    for x, y in zip(jax.tree_util.tree_leaves(a), jax.tree_util.tree_leaves(b)):
        np.testing.assert_allclose(np.asarray(x), np.asarray(y), rtol=0, atol=1e-6)


def test_fingerprint_has_dequantizer_fields_only_when_variational():
    uniform = loop.fingerprint(tiny_config())["data"]
    assert not any(key.startswith("dequantiz") for key in uniform)
    variational = loop.fingerprint(_variational())["data"]
    assert variational["dequantization"] == "variational"
    assert variational["dequantizer_hidden_channels"] == 4


def _model_and_batch():
    model = train.build_model(_variational())
    assert isinstance(model, models.VariationalDequantization)
    batch = next(
        data.BatchIterator(
            small_digits().train, batch_size=4, num_bins=17, seed=0, pixels=True
        )
    )
    batch = {key: jnp.asarray(value) for key, value in batch.items()}
    variables = model.init(jax.random.PRNGKey(0), batch["image"])
    return model, variables, batch


def test_evaluation_noise_is_fixed_and_training_noise_follows_the_rng():
    model, variables, batch = _model_and_batch()
    objective = Objective("density", num_bins=17, dequantization="variational")
    first = objective(model, variables, batch, None)["bits_per_dim"]
    again = objective(model, variables, batch, None)["bits_per_dim"]
    np.testing.assert_array_equal(first, again)
    trained = objective(model, variables, batch, jax.random.PRNGKey(9))
    assert np.all(np.asarray(trained["bits_per_dim"]) != np.asarray(first))


def test_raises_if_model_and_objective_dequantization_differ():
    model, variables, batch = _model_and_batch()
    with pytest.raises(ValueError, match="needs dequantization 'variational'"):
        Objective("density", num_bins=17)(model, variables, batch, None)
    density = models.FlowDensity(models.single_scale_glow(num_steps=1))
    with pytest.raises(ValueError, match="needs dequantization 'uniform'"):
        Objective("density", num_bins=17, dequantization="variational")(
            density, {}, batch, None
        )


def test_raises_if_batch_lacks_pixels():
    model, variables, batch = _model_and_batch()
    del batch["pixels"]
    objective = Objective("density", num_bins=17, dequantization="variational")
    with pytest.raises(ValueError, match=r"integer pixels in the batch as 'pixels'"):
        objective(model, variables, batch, None)


def test_raises_if_pixels_are_not_integers():
    model, variables, batch = _model_and_batch()
    with pytest.raises(
        ValueError, match="expected integer pixels .* got dtype float32"
    ):
        model.apply(
            variables,
            batch["image"],
            jax.random.PRNGKey(0),
            num_bins=17,
            method="bound",
        )


@pytest.mark.parametrize(
    "kind, dequantization, message",
    [
        ("density", "logistic", r"dequantization must be one of \('uniform'"),
        ("hybrid", "variational", "needs objective 'density', got 'hybrid'"),
    ],
)
def test_raises_if_bad_dequantization(kind, dequantization, message):
    with pytest.raises(ValueError, match=message):
        Objective(kind, num_bins=17, dequantization=dequantization)
