"""Smoke test: the main-job benchmark runs the CLI end to end and tabulates it."""

import json

import pytest

from experiments.main_job import benchmark

pytestmark = pytest.mark.slow  # end to end; see docs/testing.md


def test_row_reads_the_summary():
    summary = {
        "step": 900,
        "params": 7,
        "test": {"bits_per_dim": 1.48134},
        "categorical_baseline_bits_per_dim": 1.76012,
        "samples_drawn_T1.0": 1024,
        "samples_nonfinite_T1.0": 0,
        "samples_unstable_T1.0": 3,
        "samples_max_round_trip_error_T1.0": 0.01,  # not a table column
        "inverse_lipschitz": 9.5,
        "sample_score_T0.7_confident_share": 0.2,
        "sample_score_T0.7_labels_present": 10,
        "sample_score_T0.7_label_counts": [1] * 10,  # not a table column
    }
    row = benchmark.row("mnist5k_cinc", {"wall_s": 615.44, "summary": summary})
    assert row == {
        "config": "mnist5k_cinc",
        "steps": 900,
        "params": 7,
        "wall_s": 615.4,
        "test_bits_per_dim": 1.4813,
        "baseline_bits_per_dim": 1.7601,
        "gain_over_baseline": round(1 - 1.48134 / 1.76012, 4),
        "inverse_lipschitz": 9.5,
        "samples_drawn_T1.0": 1024,
        "samples_nonfinite_T1.0": 0,
        "samples_unstable_T1.0": 3,
        "sample_score_T0.7_confident_share": 0.2,
        "sample_score_T0.7_labels_present": 10,
    }


# The CLI path it runs is covered by tests/train/test_main.py's main-job test.
def test_smoke_run_reports_bits_per_dim_baseline_and_sample_counts(tmp_path):
    row = benchmark.main(["--smoke", "--output_dir", str(tmp_path)])
    summary = json.loads((tmp_path / "run" / "summary.json").read_text())
    assert row["steps"] == 4 == summary["step"]
    assert row["test_bits_per_dim"] == round(summary["test"]["bits_per_dim"], 4)
    assert row["baseline_bits_per_dim"] > 0 and row["wall_s"] > 0
    assert row["samples_drawn_T1.0"] == 32
    assert row["samples_nonfinite_T1.0"] == summary["samples_nonfinite_T1.0"]
    assert json.loads((tmp_path / "results.json").read_text()) == row
