"""MetricsLog: JSONL records survive a resume; TensorBoard events hold the values."""

import glob
import json
import os
import struct

import pytest

from jinvnet.train.metrics_log import MetricsLog


def _read_scalars(logdir) -> list[tuple[str, int, float]]:
    """(tag, step, value) of every scalar in the TFRecord event files of `logdir`."""
    event_pb2 = pytest.importorskip("tensorboardX.proto.event_pb2")
    scalars = []
    for path in glob.glob(os.path.join(logdir, "events.out.tfevents.*")):
        with open(path, "rb") as f:
            content = f.read()
        offset = 0
        while offset < len(content):  # uint64 length, uint32 crc, data, uint32 crc
            (length,) = struct.unpack("<Q", content[offset : offset + 8])
            event = event_pb2.Event.FromString(
                content[offset + 12 : offset + 12 + length]
            )
            offset += 12 + length + 4
            for value in event.summary.value:
                scalars.append((value.tag, event.step, value.simple_value))
    return scalars


def test_records_are_appended_and_reloaded_on_resume(tmp_path):
    log = MetricsLog(str(tmp_path), tensorboard=False)
    log.write(10, "train", {"loss": 1.5})
    log.close()
    resumed = MetricsLog(str(tmp_path), tensorboard=False)
    resumed.write(20, "test", {"loss": 1.25, "bits_per_dim": 3.0})
    resumed.close()
    with open(tmp_path / "metrics.jsonl") as f:
        lines = [json.loads(line) for line in f]
    expected = [
        {"step": 10, "split": "train", "loss": 1.5},
        {"step": 20, "split": "test", "loss": 1.25, "bits_per_dim": 3.0},
    ]
    assert lines == expected and resumed.records == expected
    assert not os.path.exists(tmp_path / "tensorboard")


def test_tensorboard_events_hold_every_scalar(tmp_path):
    pytest.importorskip("tensorboardX")
    log = MetricsLog(str(tmp_path))
    log.write(1, "train", {"loss": 2.5, "bits_per_dim": 4.0})
    log.write(2, "test", {"loss": 0.75})
    log.close()
    scalars = sorted(_read_scalars(tmp_path / "tensorboard"))
    assert scalars == [
        ("test/loss", 2, 0.75),
        ("train/bits_per_dim", 1, 4.0),
        ("train/loss", 1, 2.5),
    ]
