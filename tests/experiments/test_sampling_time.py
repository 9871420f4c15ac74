"""Smoke test of experiments/sampling_time on tiny shapes."""

import json

from experiments.sampling_time import benchmark, main


def test_quick_run_times_every_available_model(tmp_path):
    rows = main.main(
        ["--quick", "--models", "glow,cinc", "--output_dir", str(tmp_path)]
    )
    saved = json.loads((tmp_path / "results.json").read_text())["rows"]
    assert [(r["model"], r["method"]) for r in saved] == [
        ("glow", "fast"),
        ("cinc", "scan"),
        ("cinc", "fast"),
    ]
    for row in rows:
        assert row["sample_s"] > 0 and row["compile_s"] > 0 and row["nonfinite"] == 0
        assert row["round_trip_rel_error"] < 1e-5
    assert "scan / fast" in benchmark.table(rows)
