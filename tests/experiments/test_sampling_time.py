"""Smoke test of experiments/sampling_time on tiny shapes."""

import json

import pytest

from experiments.sampling_time import benchmark, main

pytestmark = pytest.mark.slow  # end to end; see docs/testing.md


def test_quick_run_times_every_available_model(tmp_path):
    rows = main.main(
        [
            "--quick",
            "--config.models=glow",
            "--config.models=cinc",
            "--config.param_noise=0.02",
            "--output_dir",
            str(tmp_path),
        ]
    )
    results = json.loads((tmp_path / "results.json").read_text())
    assert results["config"]["param_noise"] == 0.02
    saved = results["rows"]
    assert [(r["model"], r["method"]) for r in saved] == [
        ("glow", "fast"),
        ("cinc", "scan"),
        ("cinc", "wavefront"),
        ("cinc", "fast"),
    ]
    for row in rows:
        assert row["sample_s"] > 0 and row["compile_s"] > 0 and row["nonfinite"] == 0
        assert 0 < row["sample_min_s"] <= row["sample_s"]
        assert row["round_trip_rel_error"] < 1e-5
    table = benchmark.table(rows)
    assert "| scan s | wavefront s | fast s | scan / fast |" in table
    assert "ceiling: scan / Glow" in table
    cinc_row = next(line for line in table.splitlines() if "| cinc |" in line)
    scan_s, glow_s = (
        next(r["sample_s"] for r in rows if r["model"] == m and r["method"] == k)
        for m, k in (("cinc", "scan"), ("glow", "fast"))
    )
    assert f"{scan_s / glow_s:.2f}x" in cinc_row


def test_scanned_steps_sample_as_written_out_ones(tmp_path):
    argv = ["--quick", "--config.models=glow", "--config.scan_steps=True"]
    rows = main.main([*argv, "--output_dir", str(tmp_path)])
    assert [r["model"] for r in rows] == ["glow"]
    assert rows[0]["round_trip_rel_error"] < 1e-5 and rows[0]["nonfinite"] == 0
