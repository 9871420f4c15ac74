"""Smoke test: the main-job benchmark runs the CLI end to end and tabulates it."""

import json

from experiments.main_job import benchmark


def test_smoke_run_reports_bits_per_dim_baseline_and_sample_counts(tmp_path):
    row = benchmark.main(["--smoke", "--output_dir", str(tmp_path)])
    summary = json.loads((tmp_path / "run" / "summary.json").read_text())
    assert row["steps"] == 4 == summary["step"]
    assert row["test_bits_per_dim"] == round(summary["test"]["bits_per_dim"], 4)
    assert row["baseline_bits_per_dim"] > 0 and row["wall_s"] > 0
    assert row["samples_drawn_T1.0"] == 32
    assert row["samples_nonfinite_T1.0"] == summary["samples_nonfinite_T1.0"]
    assert json.loads((tmp_path / "results.json").read_text()) == row
