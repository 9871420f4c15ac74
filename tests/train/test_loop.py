"""The training loop: exact resume, NaN stop, checkpoint errors and fallback, metrics
kept once per step across a resume, artefacts."""

import dataclasses
import json
import logging
import os
import struct

import jax
import numpy as np
import orbax.checkpoint as ocp
import pytest
import tensorflow_datasets as tfds

from jinvnet import models, train
from jinvnet.train import checkpoint
from tests.train._tiny import Scripted, small_digits, tiny_config


def _params(workdir, step):
    path = os.path.join(os.path.abspath(workdir), "checkpoints", str(step), "state")
    return ocp.StandardCheckpointer().restore(path)


def test_resume_after_preemption_matches_uninterrupted_run(tmp_path):
    config = tiny_config(num_steps=6, checkpoint_every=3, log_every=1)
    train.train_and_evaluate(
        config, str(tmp_path / "straight"), dataset=small_digits(), progress=False
    )
    dataset = small_digits()
    # The init batch is get call 1, step s reads call s + 1: die while reading step 5.
    preempted = dataclasses.replace(
        dataset, train=Scripted(dataset.train, from_call=6, action="preempt")
    )
    with pytest.raises(KeyboardInterrupt):
        train.train_and_evaluate(
            config, str(tmp_path / "resumed"), dataset=preempted, progress=False
        )
    assert train.Checkpointer(
        str(tmp_path / "resumed" / "checkpoints"), fingerprint={}
    ).all_steps() == [3]
    summary = train.train_and_evaluate(
        config, str(tmp_path / "resumed"), dataset=small_digits(), progress=False
    )
    assert summary["step"] == 6
    straight, resumed = (
        _params(tmp_path / "straight", 6),
        _params(tmp_path / "resumed", 6),
    )
    assert jax.tree_util.tree_structure(straight) == jax.tree_util.tree_structure(
        resumed
    )
    for a, b in zip(
        jax.tree_util.tree_leaves(straight), jax.tree_util.tree_leaves(resumed)
    ):
        np.testing.assert_allclose(np.asarray(a), np.asarray(b), rtol=0, atol=1e-6)


def test_nan_loss_stops_names_step_and_keeps_last_good_checkpoint(tmp_path):
    config = tiny_config(num_steps=10, checkpoint_every=2)
    dataset = small_digits()
    poisoned = dataclasses.replace(
        dataset, train=Scripted(dataset.train, from_call=6, action="nan")
    )
    with pytest.raises(
        train.NonFiniteLossError, match=r"at step 5;.*Last good checkpoint: step 4"
    ):
        train.train_and_evaluate(
            config, str(tmp_path), dataset=poisoned, progress=False
        )
    checkpoints = train.Checkpointer(str(tmp_path / "checkpoints"), fingerprint={})
    assert checkpoints.latest_step() == 4
    params = _params(tmp_path, 4)["params"]
    assert all(np.all(np.isfinite(leaf)) for leaf in jax.tree_util.tree_leaves(params))
    # Running again resumes from the intact step 4 and finishes.
    summary = train.train_and_evaluate(
        config, str(tmp_path), dataset=small_digits(), progress=False
    )
    assert summary["step"] == 10


def test_incompatible_checkpoint_gives_clear_error(tmp_path):
    config = tiny_config(num_steps=2, checkpoint_every=2)
    train.train_and_evaluate(
        config, str(tmp_path), dataset=small_digits(), progress=False
    )
    config.model.kwargs.hidden_channels = 16
    config.train.num_steps = 4
    with pytest.raises(
        train.CheckpointError,
        match="model.kwargs.hidden_channels: checkpoint 8, this run 16",
    ):
        train.train_and_evaluate(
            config, str(tmp_path), dataset=small_digits(), progress=False
        )


def test_corrupt_checkpoint_gives_clear_error(tmp_path):
    config = tiny_config(num_steps=2, checkpoint_every=2)
    train.train_and_evaluate(
        config, str(tmp_path), dataset=small_digits(), progress=False
    )
    state_dir = tmp_path / "checkpoints" / "2" / "state"
    for path in state_dir.rglob("*"):
        if path.is_file():
            path.write_bytes(b"garbage")
    config.train.num_steps = 4
    with pytest.raises(
        train.CheckpointError,
        match="checkpoint step 2 in .* (corrupt|could not be restored)",
    ):
        train.train_and_evaluate(
            config, str(tmp_path), dataset=small_digits(), progress=False
        )


def test_keeps_last_n_and_best(tmp_path):
    config = tiny_config(num_steps=8, checkpoint_every=1, keep_last=2, keep_best=1)
    train.train_and_evaluate(
        config, str(tmp_path), dataset=small_digits(), progress=False
    )
    records = [json.loads(line) for line in open(tmp_path / "metrics.jsonl")]
    test_loss = {r["step"]: r["loss"] for r in records if r["split"] == "test"}
    best = min(test_loss, key=test_loss.get)
    steps = train.Checkpointer(
        str(tmp_path / "checkpoints"), fingerprint={}
    ).all_steps()
    assert steps == sorted({7, 8, best})
    assert not list((tmp_path / "checkpoints").glob("*tmp*"))


def test_writes_metrics_figures_and_summary(tmp_path):
    summary = train.train_and_evaluate(
        tiny_config(num_steps=2, log_every=1, figures=True),
        str(tmp_path),
        dataset=small_digits(),
        progress=False,
    )
    for name in (
        "metrics.jsonl",
        "summary.json",
        "loss_curve.png",
        "samples_T1.0.png",
        "reconstructions.png",
    ):
        assert (tmp_path / name).stat().st_size > 0, name
    assert summary["test"]["bits_per_dim"] > 0
    assert summary["reconstruction_max_abs_error"] < 1e-4
    assert summary["categorical_baseline_bits_per_dim"] > 0


def test_trains_on_mock_tfds_mnist(tmp_path):
    config = tiny_config(num_steps=2)
    config.data.name = "mnist"
    config.data.data_dir = str(tmp_path / "tfds")
    config.train.baseline_max_examples = 16
    with tfds.testing.mock_data(
        num_examples=16, policy=tfds.testing.MockPolicy.USE_CODE
    ):
        summary = train.train_and_evaluate(
            config, str(tmp_path / "run"), progress=False
        )
    assert summary["dataset"] == "mnist" and np.isfinite(
        summary["test"]["bits_per_dim"]
    )


def test_raises_if_unknown_model_factory():
    config = tiny_config()
    config.model.factory = "no_such_flow"
    with pytest.raises(ValueError, match="'no_such_flow' is not in jinvnet.models"):
        train.build_model(config)


def test_classification_config_trains_and_reports_accuracy(tmp_path):
    config = train.get_config("digits_iconvnet")
    config.model.kwargs.num_stages = 1
    config.model.kwargs.layers_per_stage = 1
    config.train.update(batch_size=8, init_batch_size=16, eval_batch_size=16)
    config.train.num_steps = 2
    summary = train.train_and_evaluate(
        config, str(tmp_path), dataset=small_digits(), progress=False
    )
    assert 0.0 <= summary["test"]["accuracy"] <= 1.0
    assert (tmp_path / "loss_curve.png").exists()


def _records(workdir) -> list[dict]:
    with open(os.path.join(workdir, "metrics.jsonl")) as f:
        return [json.loads(line) for line in f]


def test_resume_drops_records_logged_after_the_restored_step(tmp_path):
    config = tiny_config(num_steps=6, checkpoint_every=3, log_every=1)
    dataset = small_digits()
    # The init batch is get call 1, step s reads call s + 1: die while reading step 6,
    # after steps 4 and 5 were logged but not checkpointed.
    preempted = dataclasses.replace(
        dataset, train=Scripted(dataset.train, from_call=7, action="preempt")
    )
    with pytest.raises(KeyboardInterrupt):
        train.train_and_evaluate(
            config, str(tmp_path), dataset=preempted, progress=False
        )
    before = _records(tmp_path)
    assert [(r["step"], r["split"]) for r in before] == [
        (1, "train"),
        (2, "train"),
        (3, "train"),
        (3, "test"),
        (4, "train"),
        (5, "train"),
    ]
    train.train_and_evaluate(config, str(tmp_path), dataset=dataset, progress=False)
    after = _records(tmp_path)
    expected = [(s, "train") for s in (1, 2, 3)] + [(3, "test")]
    expected += [(s, "train") for s in (4, 5, 6)] + [(6, "test")]
    assert [(r["step"], r["split"]) for r in after] == expected
    # The records kept from the first run are the first run's, unchanged.
    assert after[:4] == before[:4]
    # TensorBoard hides events from step 4 on in the older event file: the new
    # writer starts with a SessionLog START at step 4 (tensorboardX `purge_step`).
    event_pb2 = pytest.importorskip("tensorboardX.proto.event_pb2")
    starts = [
        event.step
        for event in _events(tmp_path / "tensorboard")
        if event.HasField("session_log")
        and event.session_log.status == event_pb2.SessionLog.START
    ]
    assert starts == [4]


def _events(logdir) -> list:
    """Every Event in the TFRecord event files of `logdir`, file by file in order."""
    event_pb2 = pytest.importorskip("tensorboardX.proto.event_pb2")
    events = []
    for path in sorted(logdir.glob("events.out.tfevents.*")):
        content = path.read_bytes()
        offset = 0
        while offset < len(content):  # uint64 length, uint32 crc, data, uint32 crc
            (length,) = struct.unpack("<Q", content[offset : offset + 8])
            events.append(
                event_pb2.Event.FromString(content[offset + 12 : offset + 12 + length])
            )
            offset += 12 + length + 4
    return events


def test_damaged_newest_checkpoint_falls_back_to_newest_intact_one(tmp_path, caplog):
    config = tiny_config(num_steps=4, checkpoint_every=2)
    train.train_and_evaluate(
        config, str(tmp_path), dataset=small_digits(), progress=False
    )
    original_step4 = _params(tmp_path, 4)
    damaged = list((tmp_path / "checkpoints" / "4" / "state" / "d").iterdir())
    assert damaged
    for path in damaged:
        path.write_bytes(b"")
    config.train.num_steps = 6
    with caplog.at_level(logging.WARNING, logger="jinvnet"):
        summary = train.train_and_evaluate(
            config, str(tmp_path), dataset=small_digits(), progress=False
        )
    assert summary["step"] == 6
    quarantine = tmp_path / "checkpoints_damaged" / "4"
    warnings = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert any(
        f"checkpoint step 4 in {tmp_path / 'checkpoints'} is damaged" in message
        and "resuming from step 2" in message
        and str(quarantine) in message
        for message in warnings
    ), warnings
    # The damaged step is kept, files and all, outside the checkpoint folder.
    for path in damaged:
        moved = quarantine / path.relative_to(tmp_path / "checkpoints" / "4")
        assert moved.exists() and moved.stat().st_size == 0
    # Training resumed from step 2 and wrote step 4 again: since resuming is exact,
    # the new step 4 equals the one that was damaged.
    rewritten = _params(tmp_path, 4)
    for a, b in zip(
        jax.tree_util.tree_leaves(original_step4),
        jax.tree_util.tree_leaves(rewritten),
    ):
        np.testing.assert_array_equal(np.asarray(a), np.asarray(b))
    assert train.Checkpointer(
        str(tmp_path / "checkpoints"), fingerprint={}
    ).all_steps() == [2, 4, 6]


def test_final_metrics_are_the_last_evaluation_and_a_finished_run_reevaluates(
    tmp_path,
):
    config = tiny_config(num_steps=4, checkpoint_every=2)
    summary = train.train_and_evaluate(
        config, str(tmp_path), dataset=small_digits(), progress=False
    )
    with open(tmp_path / "metrics.jsonl") as f:
        records = [json.loads(line) for line in f]
    tests = [r for r in records if r.get("split") == "test"]
    assert [r["step"] for r in tests] == [2, 4], records  # evaluated once at the end
    for key, value in summary["test"].items():
        np.testing.assert_allclose(tests[-1][key], value, rtol=1e-6)
    assert summary["wall_s"] > 0
    # Resuming a finished run trains nothing; its evaluation of the restored
    # step-4 state gives the same numbers.
    again = train.train_and_evaluate(
        config, str(tmp_path), dataset=small_digits(), progress=False
    )
    assert again["step"] == 4
    for key, value in summary["test"].items():
        np.testing.assert_allclose(again["test"][key], value, rtol=1e-5)


def _rewrite_saved_model(workdir, step, change):
    """Edits the model description a checkpoint step was saved with."""
    path = os.path.join(str(workdir), "checkpoints", str(step), "meta", "metadata")
    with open(path) as f:
        meta = json.load(f)
    change(meta["model"])
    with open(path, "w") as f:
        json.dump(meta, f)


def test_checkpoint_with_only_the_configs_kwargs_resumes(tmp_path):
    # Before 2026-12-03 the fingerprint listed only the kwargs the config set; the
    # factory's defaults (here single_scale_glow's coupling="affine") fill the rest.
    config = tiny_config(num_steps=2, checkpoint_every=2)
    train.train_and_evaluate(
        config, str(tmp_path), dataset=small_digits(), progress=False
    )
    assert train.loop.fingerprint(config)["model"]["kwargs"] == {
        "num_steps": 1,
        "hidden_channels": 8,
        "coupling": "affine",
    }

    def old_style(model):
        model["kwargs"] = {"num_steps": 1, "hidden_channels": 8}

    _rewrite_saved_model(tmp_path, 2, old_style)
    config = tiny_config(num_steps=4, checkpoint_every=2)
    summary = train.train_and_evaluate(
        config, str(tmp_path), dataset=small_digits(), progress=False
    )
    assert summary["step"] == 4

    def other_width(model):
        model["kwargs"] = {"num_steps": 1, "hidden_channels": 16}

    _rewrite_saved_model(tmp_path, 4, other_width)
    config = tiny_config(num_steps=6, checkpoint_every=2)
    with pytest.raises(
        train.CheckpointError,
        match=r"model.kwargs.hidden_channels: checkpoint 16, this run 8",
    ):
        train.train_and_evaluate(
            config, str(tmp_path), dataset=small_digits(), progress=False
        )


def test_checkpoint_with_the_old_cinc_kernel_layout_is_refused(tmp_path):
    # Before 2026-12-03 CInC and emerging kernels were (row, column, out, in): the
    # same shapes, so only the fingerprint can tell; such a checkpoint is refused.
    config = tiny_config(num_steps=2, checkpoint_every=2)
    config.model.factory = "multiscale.cinc"
    config.model.kwargs = {"num_levels": 1, "steps_per_level": 1, "hidden_channels": 4}
    train.configs.complete_model_kwargs(config)
    train.train_and_evaluate(
        config, str(tmp_path), dataset=small_digits(), progress=False
    )
    path = os.path.join(str(tmp_path), "checkpoints", "2", "meta", "metadata")
    with open(path) as f:
        meta = json.load(f)
    assert meta["kernel_layout"] == "HWIO"
    del meta["kernel_layout"]  # as written before the change
    with open(path, "w") as f:
        json.dump(meta, f)
    config.train.num_steps = 4
    with pytest.raises(
        train.CheckpointError,
        match=r"kernel_layout: checkpoint '\(row, column, out, in\) for CInC",
    ):
        train.train_and_evaluate(
            config, str(tmp_path), dataset=small_digits(), progress=False
        )


def test_old_checkpoint_without_causal_convolutions_keeps_resuming():
    saved = {"model": {"factory": "single_scale_glow", "kwargs": {"num_steps": 1}}}
    assert train.loop.upgrade_fingerprint(saved)["kernel_layout"] == "HWIO"
    saved = {"model": {"factory": "MultiScaleFlow", "kwargs": {"conv": "emerging"}}}
    assert train.loop.upgrade_fingerprint(saved)["kernel_layout"] != "HWIO"


def _multiscale_config(num_steps, scan_steps):
    config = tiny_config(num_steps=num_steps, checkpoint_every=2)
    config.model.factory = "multiscale.glow"
    config.model.kwargs = {
        "num_levels": 2,
        "steps_per_level": 3,
        "hidden_channels": 4,
        "scan_steps": scan_steps,
    }
    train.configs.complete_model_kwargs(config)
    return config


def _restored_state(config, workdir):
    dataset = small_digits()
    model = train.loop.build_model(config)
    optimizer = train.make_optimizer(config.optim, config.train.num_steps)
    mesh = train.parallel.data_mesh()
    like = train.loop.initial_state(config, model, dataset, optimizer, mesh)
    checkpoints = train.loop.checkpointer(config, workdir)
    try:
        return checkpoints.restore(like)[0]
    finally:
        checkpoints.close()


def _assert_trees_equal(a, b, same_structure=True):
    if same_structure:  # (a raw restore has lists and dicts for optax's tuples)
        assert jax.tree_util.tree_structure(a) == jax.tree_util.tree_structure(b)
    a, b = jax.tree_util.tree_leaves(a), jax.tree_util.tree_leaves(b)
    assert len(a) == len(b)
    for x, y in zip(a, b):
        np.testing.assert_array_equal(np.asarray(x), np.asarray(y))


@pytest.mark.parametrize("saved_scanned", [False, True])
def test_checkpoint_restores_into_the_other_step_layout(tmp_path, saved_scanned):
    # Written-out and scanned steps store the same values in two layouts
    # (models.stack_steps); a checkpoint of either resumes a run of the other.
    saved = _multiscale_config(2, saved_scanned)
    train.train_and_evaluate(
        saved, str(tmp_path), dataset=small_digits(), progress=False
    )
    on_disk = _params(tmp_path, 2)
    assert ("step0" in on_disk["params"]["flow"]["level0"]) != saved_scanned
    other = _multiscale_config(4, not saved_scanned)
    restored = _restored_state(other, str(tmp_path))
    convert = models.unstack_steps if saved_scanned else models.stack_steps
    expected = convert(on_disk)  # params, constants, Adam moments, EMA: every tree
    for field in ("params", "constants", "opt_state", "ema_params"):
        _assert_trees_equal(
            jax.device_get(getattr(restored, field)),
            expected[field],
            same_structure=field != "opt_state",
        )
    assert int(restored.step) == 2
    summary = train.train_and_evaluate(
        other, str(tmp_path), dataset=small_digits(), progress=False
    )
    assert summary["step"] == 4 and np.isfinite(summary["test"]["bits_per_dim"])


def test_checkpoint_from_before_scan_steps_is_read_as_written_out(tmp_path):
    config = _multiscale_config(2, False)
    train.train_and_evaluate(
        config, str(tmp_path), dataset=small_digits(), progress=False
    )
    _rewrite_saved_model(tmp_path, 2, lambda model: model["kwargs"].pop("scan_steps"))
    default = _multiscale_config(4, True)  # the default since 2026-12-04
    saved = json.load(open(tmp_path / "checkpoints" / "2" / "meta" / "metadata"))
    upgraded = train.loop.upgrade_fingerprint(saved)
    assert upgraded["model"]["kwargs"]["scan_steps"] is False
    restored = _restored_state(default, str(tmp_path))
    _assert_trees_equal(
        jax.device_get(restored.params),
        models.stack_steps(_params(tmp_path, 2)["params"]),
    )
    # A difference besides the layout still refuses, whatever the layouts.
    _rewrite_saved_model(
        tmp_path, 2, lambda model: model["kwargs"].update(hidden_channels=16)
    )
    with pytest.raises(
        train.CheckpointError,
        match=r"model.kwargs.hidden_channels: checkpoint 16, this run 4",
    ):
        _restored_state(default, str(tmp_path))


def test_step_layout_conversion_only_for_layout_fields():
    config = _multiscale_config(2, True)
    current = train.loop.fingerprint(config)
    other = json.loads(json.dumps(current))
    other["model"]["kwargs"]["scan_unroll"] = 3  # how the loop runs, same layout
    assert train.loop.step_layout_conversion(other, current) is checkpoint.IDENTITY
    other["model"]["kwargs"]["scan_steps"] = False
    conversion = train.loop.step_layout_conversion(other, current)
    assert conversion.to_saved is models.unstack_steps
    other["model"]["kwargs"]["steps_per_level"] = 4
    assert train.loop.step_layout_conversion(other, current) is None
