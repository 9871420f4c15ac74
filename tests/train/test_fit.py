"""train.fit: the trainer's step over a stream of batches, for experiments."""

import itertools

import jax
import jax.numpy as jnp
import numpy as np
import optax
import pytest

from jinvnet import data, models, train


def _batches(count: list):
    dataset = data.load("digits")
    iterator = data.BatchIterator(
        dataset.train, batch_size=32, num_bins=dataset.num_bins, seed=0
    )
    for batch in iterator:
        count.append(1)
        yield batch


def _model():
    return models.FlowDensity(
        models.MultiScaleFlow(num_levels=1, steps_per_level=2, hidden_channels=8)
    )


def test_fit_initialises_on_the_first_batch_and_trains_on_the_next():
    drawn = []
    objective = train.Objective("density", num_bins=17)
    result = train.fit(
        _model(),
        _batches(drawn),
        objective=objective,
        optimizer=optax.adam(3e-3),
        num_steps=40,
        seed=3,
    )
    assert len(drawn) == 41 and len(result.losses) == 40
    first = next(_batches([]))
    reference = _model().init(jax.random.PRNGKey(3), jnp.asarray(first["image"]))
    for a, b in zip(
        jax.tree_util.tree_leaves(result.initial), jax.tree_util.tree_leaves(reference)
    ):
        np.testing.assert_array_equal(a, b)
    # Step 1's loss is the objective's mean bits/dim of the second batch under the
    # initial variables (the first batch only initialises).
    second = list(itertools.islice(_batches([]), 2))[1]
    terms = objective(_model(), result.initial, second, jax.random.PRNGKey(0))
    np.testing.assert_allclose(np.mean(terms["loss"]), result.losses[0], rtol=1e-5)
    assert np.mean(result.losses[-5:]) < np.mean(result.losses[:5]) - 0.3


def test_zero_steps_return_the_initial_variables():
    result = train.fit(
        _model(),
        _batches([]),
        objective=train.Objective("density", num_bins=17),
        optimizer=optax.adam(1e-3),
        num_steps=0,
    )
    assert result.losses == []
    for a, b in zip(
        jax.tree_util.tree_leaves(result.initial),
        jax.tree_util.tree_leaves(result.variables),
    ):
        np.testing.assert_array_equal(a, b)


def test_a_nan_loss_names_the_step():
    """SGD at lr 1e12 blows the flow up within a few steps: an error, not a
    quietly NaN model."""
    seen = []
    with pytest.raises(train.NonFiniteFitLossError, match="at step [0-9]+") as info:
        train.fit(
            _model(),
            _batches([]),
            objective=train.Objective("density", num_bins=17),
            optimizer=optax.sgd(1e12),
            num_steps=20,
            before_step=lambda i, variables, batch: seen.append(i),
        )
    # The error's step is the 1-based step the hook saw last.
    assert info.value.step == seen[-1] + 1 and seen == list(range(len(seen)))


def test_before_step_sees_each_steps_start_and_batch():
    """The hook gets the variables a step starts from and the batch it trains on:
    the parameters it saw at step i + 1 are Adam's update of those at step i."""
    seen = []

    def record(i, variables, batch):
        seen.append((i, variables["params"], batch["image"]))

    result = train.fit(
        _model(),
        _batches([]),
        objective=train.Objective("density", num_bins=17),
        optimizer=optax.adam(1e-3),
        num_steps=3,
        before_step=record,
    )
    assert [i for i, _, _ in seen] == [0, 1, 2]
    first = jax.tree_util.tree_leaves(seen[0][1])
    for a, b in zip(first, jax.tree_util.tree_leaves(result.initial["params"])):
        np.testing.assert_array_equal(a, b)
    # The batches are the stream's second to fourth (the first initialises).
    stream = _batches([])
    next(stream)
    for (_, _, image), expected in zip(seen, stream):
        np.testing.assert_array_equal(image, expected["image"])
    changed = [
        not np.array_equal(a, b)
        for a, b in zip(
            jax.tree_util.tree_leaves(seen[1][1]), jax.tree_util.tree_leaves(seen[0][1])
        )
    ]
    assert any(changed)


def test_negative_steps_raise():
    with pytest.raises(ValueError, match="num_steps must be >= 0"):
        train.fit(
            _model(),
            _batches([]),
            objective=train.Objective("density", num_bins=17),
            optimizer=optax.adam(1e-3),
            num_steps=-1,
        )
