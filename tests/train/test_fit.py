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
    with pytest.raises(train.NonFiniteFitLossError, match="at step [0-9]+"):
        train.fit(
            _model(),
            _batches([]),
            objective=train.Objective("density", num_bins=17),
            optimizer=optax.sgd(1e12),
            num_steps=20,
        )


def test_negative_steps_raise():
    with pytest.raises(ValueError, match="num_steps must be >= 0"):
        train.fit(
            _model(),
            _batches([]),
            objective=train.Objective("density", num_bins=17),
            optimizer=optax.adam(1e-3),
            num_steps=-1,
        )
