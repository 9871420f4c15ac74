"""The train step: its EMA against a numpy recurrence; one compile per state layout."""

import jax
import numpy as np

from jinvnet import data, train
from jinvnet.train import parallel
from tests.train._tiny import small_digits, tiny_config


def _setup(*, ema: bool, ema_decay: float = 0.0):
    """(variables, fresh state, step, mesh, batch) for the tiny config's model."""
    config = tiny_config()
    dataset = small_digits()
    model = train.build_model(config)
    objective = train.Objective("density", dataset.num_bins)
    optimizer = train.make_optimizer(config.optim, 10)
    batch = next(data.BatchIterator(dataset.train, batch_size=8, num_bins=17, seed=0))
    variables = model.init(jax.random.PRNGKey(0), batch["image"])
    mesh = train.data_mesh(jax.devices()[:1])
    state = train.TrainState.create(
        variables, optimizer, jax.random.PRNGKey(1), ema=ema
    )
    step = train.make_train_step(model, objective, optimizer, mesh, ema_decay=ema_decay)
    return variables, state, step, mesh, batch


def test_ema_follows_the_warmed_up_recurrence():
    decay = 0.998
    variables, state, step, mesh, batch = _setup(ema=True, ema_decay=decay)

    def flat(tree):
        return np.concatenate([np.ravel(x) for x in jax.tree_util.tree_leaves(tree)])

    expected = flat(state.params)
    for t in range(1, 5):
        state, _ = step(state, train.shard_batch(batch, mesh))
        d = min(decay, (1 + t) / (10 + t))  # 2/11, 3/12, 4/13, 5/14
        expected = d * expected + (1 - d) * flat(state.params)
    np.testing.assert_allclose(flat(state.ema_params), expected, rtol=1e-5, atol=1e-7)
    # Without the warm-up, 0.998^4 of the initial parameters would remain.
    assert not np.allclose(flat(state.ema_params), flat(variables["params"]), atol=1e-4)


def test_a_fresh_state_compiles_the_step_once():
    """`TrainState.create` gives single-device arrays; the step replicates them
    itself instead of compiling a second program for the replicated state it
    returns (it did: every benchmark's second step recompiled, 2-14 s)."""
    _, fresh, step, mesh, batch = _setup(ema=False)
    sharded = train.shard_batch(batch, mesh)
    state = fresh
    for _ in range(3):
        state, _ = step(state, sharded)
    assert step.jitted._cache_size() == 1
    # The same numbers as from a state replicated by hand (as `fit` does).
    replicated = parallel.replicate(fresh, mesh)
    for _ in range(3):
        replicated, _ = step(replicated, sharded)
    assert step.jitted._cache_size() == 1
    for a, b in zip(
        jax.tree_util.tree_leaves(state), jax.tree_util.tree_leaves(replicated)
    ):
        np.testing.assert_array_equal(np.asarray(a), np.asarray(b))
