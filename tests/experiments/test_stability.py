"""Smoke test of experiments/stability on a tiny network for two steps."""

import json

import pytest

from experiments.stability import experiment, main

pytestmark = pytest.mark.slow  # end to end; see docs/testing.md


def test_quick_run_reports_every_diagnostic(tmp_path):
    rows = main.main(["--quick", "--output_dir", str(tmp_path)])
    saved = json.loads((tmp_path / "results.json").read_text())["rows"]
    assert [(r["objective"], r["coupling"], r["regulariser"]) for r in saved] == [
        ("classifier", "affine", "fd")
    ]
    row = rows[0]
    for name in experiment.ERROR_KEYS:
        assert row[f"error/{name}"] < 1e-3
    assert row["lipschitz/inverse"] > 0 and len(row["angles"]) == 2
    assert (tmp_path / "errors.png").stat().st_size > 0
    assert (tmp_path / "angles.png").stat().st_size > 0
    assert "Lip f^-1" in experiment.table(rows)
