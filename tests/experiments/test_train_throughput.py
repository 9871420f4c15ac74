"""Smoke test: the throughput benchmark runs end to end on tiny shapes."""

import json

import pytest

from experiments.train_throughput import main

pytestmark = pytest.mark.slow  # end to end; see docs/testing.md


def test_quick_run_writes_rows_with_ratios(tmp_path):
    rows = main.main(["--quick", "--output_dir", str(tmp_path)])
    saved = json.loads((tmp_path / "results.json").read_text())
    assert [r["model"] for r in saved["rows"]] == ["glow", "cinc"]
    glow = rows[0]
    assert glow["images_per_s"] > 0 and glow["ratio_to_glow"] == 1.0
    assert all(("images_per_s" in r) or ("error" in r) for r in rows)
