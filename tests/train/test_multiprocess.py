"""Two real processes on localhost: `--distributed` training equals one process.

Runs `python -m jinvnet.train --distributed` twice side by side (a local
coordinator on a free port, JAX_NUM_PROCESSES=2, one CPU device each, gloo CPU
collectives: JAX's default on CPU) and plain single-process runs of the same tiny
config, all in subprocesses as a user would. Checked: the pair's steps give the
parameters, optimiser state and losses of the one-process steps on the same
global batch; a checkpoint written by one process resumes in the pair, and one
written by the pair resumes in one process.
"""

import json
import os
import pathlib
import shutil
import socket
import subprocess
import sys

import jax
import numpy as np
import orbax.checkpoint as ocp
import pytest

pytestmark = pytest.mark.slow  # end to end; see docs/testing.md

ROOT = pathlib.Path(__file__).resolve().parents[2]

# digits_glow_single made tiny: one flow step of width 8, batch 8 (4 per process).
_OVERRIDES = (
    "--config=digits_glow_single",
    "--no_progress",
    "--config.model.kwargs.num_steps=1",
    "--config.model.kwargs.hidden_channels=8",
    "--config.train.batch_size=8",
    "--config.train.init_batch_size=16",
    "--config.train.checkpoint_every=2",
    "--config.train.log_every=1",
    "--config.train.eval_batch_size=16",
    "--config.train.eval_max_batches=1",
    "--config.train.tensorboard=False",
    "--config.train.figures=False",
    "--config.optim.warmup_steps=2",
)
_TIMEOUT = 300


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _train(workdir: pathlib.Path, num_steps: int, cache: pathlib.Path, *, pair=False):
    """Runs the CLI to num_steps in one process, or in two with --distributed."""
    env = {
        key: value
        for key, value in os.environ.items()
        if key not in ("XLA_FLAGS", "JAX_NUM_CPU_DEVICES")
    }
    env.update(
        JAX_PLATFORMS="cpu",
        PYTHONPATH=str(ROOT),
        JAX_COMPILATION_CACHE_DIR=str(cache),
        JAX_PERSISTENT_CACHE_MIN_COMPILE_TIME_SECS="0",
    )
    command = [
        sys.executable,
        "-m",
        "jinvnet.train",
        f"--workdir={workdir}",
        f"--config.train.num_steps={num_steps}",
        *_OVERRIDES,
    ]
    if not pair:  # one device, like each process of the pair (the CLI's default)
        runs = [
            subprocess.Popen([*command, "--cpu_devices=1"], cwd=ROOT, env=env, **_PIPES)
        ]
    else:
        address = f"127.0.0.1:{_free_port()}"
        runs = [
            subprocess.Popen(
                [*command, "--distributed"],
                cwd=ROOT,
                env=dict(
                    env,
                    JAX_COORDINATOR_ADDRESS=address,
                    JAX_NUM_PROCESSES="2",
                    JAX_PROCESS_ID=str(index),
                ),
                **_PIPES,
            )
            for index in range(2)
        ]
    outputs = []
    try:
        for run in runs:
            outputs.append(run.communicate(timeout=_TIMEOUT))
    finally:
        for run in runs:
            if run.poll() is None:
                run.kill()
    for run, (stdout, stderr) in zip(runs, outputs):
        assert run.returncode == 0, f"{command}\n{stdout[-2000:]}\n{stderr[-6000:]}"
    return [json.loads(stdout.strip().splitlines()[-1]) for stdout, _ in outputs]


_PIPES = dict(stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def _state(workdir: pathlib.Path, step: int) -> dict:
    """The saved TrainState at `step` as numpy arrays (on any topology)."""
    path = workdir / "checkpoints" / str(step) / "state"
    checkpointer = ocp.PyTreeCheckpointer()
    metadata = checkpointer.metadata(path)
    metadata = getattr(metadata, "item_metadata", metadata)  # orbax's StepMetadata
    tree = getattr(metadata, "tree", metadata)
    restore_args = jax.tree_util.tree_map(
        lambda _: ocp.RestoreArgs(restore_type=np.ndarray), tree
    )
    return checkpointer.restore(path, restore_args=restore_args)


def _records(workdir: pathlib.Path) -> list[dict]:
    with open(workdir / "metrics.jsonl") as f:
        return [json.loads(line) for line in f]


def _assert_same_state(got: dict, expected: dict) -> None:
    """Integer leaves equal; float leaves to 2e-5 of their largest entry.

    The pair adds the two halves of the batch's gradient across processes, one
    process within one program: the rounding differs. Measured after two Adam
    steps: at most 5e-7 of a leaf's largest entry (Adam's nu, the squared
    gradients; parameters 1e-7), so 2e-5 leaves a margin of 40 for other CPUs. A
    wrong shard or an unaveraged gradient differs by O(1).
    """
    flat_got = jax.tree_util.tree_leaves_with_path(got)
    flat_expected = jax.tree_util.tree_leaves_with_path(expected)
    assert [p for p, _ in flat_got] == [p for p, _ in flat_expected]
    for (path, a), (_, b) in zip(flat_got, flat_expected):
        assert a.shape == b.shape and a.dtype == b.dtype, jax.tree_util.keystr(path)
        if not np.issubdtype(b.dtype, np.floating):  # step, counts, RNG key
            np.testing.assert_array_equal(a, b, err_msg=jax.tree_util.keystr(path))
            continue
        scale = float(np.abs(b).max()) if b.size else 0.0
        np.testing.assert_allclose(
            a, b, rtol=0, atol=2e-5 * scale, err_msg=jax.tree_util.keystr(path)
        )


def test_two_processes_train_as_one_and_checkpoints_move_between_them(tmp_path):
    cache = tmp_path / "xla_cache"
    single, pair = tmp_path / "single", tmp_path / "pair"
    # Reference: one process, 6 steps (checkpoints at 2, 4, 6).
    (summary,) = _train(single, 6, cache)
    assert summary["num_devices"] == 1 and summary["step"] == 6

    # The pair resumes from the single process's step 2 and trains to step 4.
    shutil.copytree(single / "checkpoints" / "2", pair / "checkpoints" / "2")
    summaries = _train(pair, 4, cache, pair=True)
    assert [s["num_devices"] for s in summaries] == [2, 2]
    # The two processes report the same run (each its own wall time).
    assert dict(summaries[0], wall_s=None) == dict(summaries[1], wall_s=None)
    _assert_same_state(_state(pair, 4), _state(single, 4))
    expected = {(r["step"], r["split"]): r for r in _records(single)}
    records = _records(pair)
    assert sorted((r["step"], r["split"]) for r in records) == [
        (3, "train"),
        (4, "test"),
        (4, "train"),
    ]  # written once, by process 0
    for record in records:
        want = expected[(record["step"], record["split"])]
        for key in set(record) - {"step", "split"}:
            np.testing.assert_allclose(record[key], want[key], rtol=1e-5, err_msg=key)

    # One process resumes from the pair's step 4 and trains to step 6.
    (summary,) = _train(pair, 6, cache)
    assert summary["num_devices"] == 1 and summary["step"] == 6
    _assert_same_state(_state(pair, 6), _state(single, 6))
    np.testing.assert_allclose(
        summary["test"]["loss"], _records(single)[-1]["loss"], rtol=1e-5
    )
