"""Data parallel: a step on 4 (fake CPU) devices equals the 1-device step.

XLA_FLAGS must be set before jax initialises, so the comparison runs in a
subprocess.
"""

import os
import pathlib
import subprocess
import sys
import textwrap

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[2]

_SCRIPT = textwrap.dedent(
    """
    import jax
    import numpy as np

    from jinvnet import data, train
    from tests.train._tiny import tiny_config

    assert jax.device_count() == 4, jax.devices()
    config = tiny_config()
    config.optim.ema_decay = 0.9
    dataset = data.digits()
    model = train.build_model(config)
    objective = train.Objective("density", dataset.num_bins)
    optimizer = train.make_optimizer(config.optim, 10)
    batch = next(data.BatchIterator(dataset.train, batch_size=8, num_bins=17, seed=0))
    variables = model.init(jax.random.PRNGKey(0), batch["image"])
    results = []
    for devices in (jax.devices()[:1], jax.devices()):
        mesh = train.data_mesh(devices)
        state = train.TrainState.create(
            variables, optimizer, jax.random.PRNGKey(1), ema=True
        )
        step = train.make_train_step(model, objective, optimizer, mesh, ema_decay=0.9)
        for _ in range(2):
            state, metrics = step(state, train.shard_batch(batch, mesh))
        kernel = state.params["flow"]["layers_1"]["layers_2"]["w1"]
        assert len(kernel.sharding.device_set) == len(devices)
        results.append((jax.device_get(state), jax.device_get(metrics)))
    (one, m1), (four, m4) = results
    # Adam divides by sqrt(v): where a gradient entry is near 0, the two reduction
    # orders' float32 round-off changes its update by a visible fraction of the
    # step (4e-5 on a 2-core EPYC). The reductions themselves are checked tightly
    # through the loss and gradient norm below; the state gets a tenth of a step.
    atol = 1e-5 + 0.1 * config.optim.learning_rate
    for a, b in zip(jax.tree_util.tree_leaves(one), jax.tree_util.tree_leaves(four)):
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=atol)
    for key in m1:
        np.testing.assert_allclose(m1[key], m4[key], rtol=1e-5)
    print("OK", float(m1["loss"]), float(m4["loss"]))
    """
)


@pytest.mark.slow
def test_four_device_step_equals_one_device_step():
    env = dict(
        os.environ,
        XLA_FLAGS="--xla_force_host_platform_device_count=4",
        JAX_PLATFORMS="cpu",
        PYTHONPATH=str(ROOT),
        # Compiled as training runs are (the suite's conftest turns XLA's passes
        # off): unfused, the two reduction orders drift apart by ~1e-4 after the
        # Adam steps.
        JAX_DISABLE_MOST_OPTIMIZATIONS="0",
    )
    result = subprocess.run(
        [sys.executable, "-c", _SCRIPT],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert result.returncode == 0, result.stderr[-4000:]
    assert "OK" in result.stdout


def test_cpu_device_count_divides_every_batch():
    from jinvnet.train.parallel import cpu_device_count

    assert cpu_device_count([64, 256], cores=16) == 16
    assert cpu_device_count([64, 250], cores=16) == 2
    assert cpu_device_count([96], cores=5) == 4
    assert cpu_device_count([7], cores=2) == 1
    with pytest.raises(ValueError, match="must be positive"):
        cpu_device_count([0], cores=2)
    with pytest.raises(ValueError, match="must be positive"):
        cpu_device_count([8], cores=0)


def test_set_cpu_devices_checks_its_count_and_keeps_a_started_jax():
    import jax

    from jinvnet.train.parallel import set_cpu_devices

    for bad in (0, -1, 2.0, True, "2"):
        with pytest.raises(ValueError, match="positive integer"):
            set_cpu_devices(bad)
    have = len(jax.local_devices(backend="cpu"))
    set_cpu_devices(have)  # what it has: nothing to do
    with pytest.raises(RuntimeError, match=f"already started with {have}"):
        set_cpu_devices(have + 1)
