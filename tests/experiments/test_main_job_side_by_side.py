"""The side-by-side driver: the peer's data is our split; saved runs are reused."""

import json
import sys

import numpy as np

from experiments.main_job import side_by_side
from jinvnet import data

_FAKE_PEER = """
import argparse, json
import numpy as np
p = argparse.ArgumentParser()
for name in ("--data", "--output", "--seed", "--num_steps"):
    p.add_argument(name)
a = p.parse_args()
with np.load(a.data) as f:
    n = len(f["train_x"])
json.dump({"peer": "fake", "normflows": "0", "torch": "0", "seed": int(a.seed),
           "steps": int(a.num_steps), "params": n, "train_s": 1.0,
           "test_bits_per_dim": 1.5}, open(a.output, "w"))
"""


def test_export_split_is_the_mnist5k_split_we_train_on(tmp_path):
    side_by_side.export_split(str(tmp_path / "split.npz"))
    dataset = data.load("mnist5k")
    with np.load(tmp_path / "split.npz") as f:
        np.testing.assert_array_equal(
            f["train_x"], dataset.train.get(np.arange(4000))["image"]
        )
        np.testing.assert_array_equal(
            f["test_x"], dataset.test.get(np.arange(1000))["image"]
        )


def test_tables_both_libraries_and_reuses_finished_runs(tmp_path, monkeypatch):
    peer = tmp_path / "peer.py"
    peer.write_text(_FAKE_PEER)
    monkeypatch.setattr(side_by_side, "_PEER", str(peer))
    ours = {"config": "mnist5k_cinc", "steps": 1800, "params": 7, "wall_s": 500.0}
    (tmp_path / "jinvnet_seed_0.json").write_text(
        json.dumps({**ours, "test_bits_per_dim": 1.3461})
    )
    argv = ["--peer_python", sys.executable, "--output_dir", str(tmp_path)]
    rows = side_by_side.main([*argv, "--seeds", "0", "--num_steps", "12"])
    assert [r["test_bits_per_dim"] for r in rows] == [1.3461, 1.5]
    assert rows[1]["steps"] == 12 and rows[1]["params"] == 4000  # the peer's data
    table = (tmp_path / "side_by_side.md").read_text()
    assert "| jinvnet | mnist5k_cinc | 0 | 1,800 | 7 | 500.0 | 1.3461 |" in table
    # Rerun: both results are on disk, nothing runs.
    peer.write_text("raise SystemExit(1)")
    assert side_by_side.main([*argv, "--seeds", "0"]) == rows
