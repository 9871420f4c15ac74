"""The side-by-side driver: the peer's data is our split; saved runs are reused."""

import json
import sys

import numpy as np

from experiments.main_job import side_by_side
from jinvnet import data
from jinvnet.train import sample_score

_FAKE_PEER = """
import argparse, json
import numpy as np
p = argparse.ArgumentParser()
for name in ("--data", "--output", "--seed", "--num_steps", "--samples"):
    p.add_argument(name)
a = p.parse_args()
with np.load(a.data) as f:
    n = len(f["train_x"])
    digits = f["test_x"][:100]
# "Samples": real test digits at T = 0.7; at T = 1.0 the same with the last 40
# flagged non-finite (their pixels zeroed, as the peer script does).
finite = np.arange(100) < 60
np.savez(a.samples, **{"pixels_T0.7": digits, "finite_T0.7": np.ones(100, bool),
                       "pixels_T1.0": digits * finite[:, None, None, None],
                       "finite_T1.0": finite})
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
    # The peer's samples are scored by the packaged classifier: recomputed here
    # from its probabilities of the same 100 test digits.
    dataset = data.load("mnist5k")
    classifier = sample_score.packaged("mnist5k", (28, 28, 1), 256)
    digits = dataset.test.get(np.arange(100))["image"]
    p = classifier.pixel_probabilities(digits)
    confident = p.max(axis=1) >= 0.9
    assert rows[1]["sample_score_T0.7_confident_share"] == confident.mean()
    assert rows[1]["sample_score_T1.0_confident_share"] == confident[:60].sum() / 100
    assert rows[1]["sample_score_T0.7_label_counts"] == list(
        np.bincount(p.argmax(axis=1)[confident], minlength=10)
    )
    assert confident.mean() > 0.8  # real digits: the score is not trivially 0
    table = (tmp_path / "side_by_side.md").read_text()
    ours_line = "| jinvnet | mnist5k_cinc | 0 | 1,800 | 7 | 500.0 | 1.3461 | - | - |"
    assert ours_line in table
    share = f"{confident.mean():.1%} | {confident[:60].sum() / 100:.1%} |"
    assert f"| 1.5000 | {share}" in table
    # Rerun: both results are on disk, nothing runs.
    peer.write_text("raise SystemExit(1)")
    assert side_by_side.main([*argv, "--seeds", "0"]) == rows
