"""The train step's EMA: a warmed-up decay, checked against a numpy recurrence."""

import jax
import numpy as np

from jinvnet import data, train
from tests.train._tiny import small_digits, tiny_config


def test_ema_follows_the_warmed_up_recurrence():
    decay = 0.998
    config = tiny_config()
    dataset = small_digits()
    model = train.build_model(config)
    objective = train.Objective("density", dataset.num_bins)
    optimizer = train.make_optimizer(config.optim, 10)
    batch = next(data.BatchIterator(dataset.train, batch_size=8, num_bins=17, seed=0))
    variables = model.init(jax.random.PRNGKey(0), batch["image"])
    mesh = train.data_mesh(jax.devices()[:1])
    state = train.TrainState.create(
        variables, optimizer, jax.random.PRNGKey(1), ema=True
    )
    step = train.make_train_step(model, objective, optimizer, mesh, ema_decay=decay)

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
