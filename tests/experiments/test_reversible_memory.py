"""Smoke test of experiments/reversible_memory on tiny shapes."""

import json

import pytest

from experiments.reversible_memory import benchmark, main

pytestmark = pytest.mark.slow  # end to end; see docs/testing.md


def test_quick_run_measures_both_paths(tmp_path):
    rows = main.main(["--quick", "--output_dir", str(tmp_path)])
    saved = json.loads((tmp_path / "results.json").read_text())["rows"]
    assert [r["depth"] for r in saved] == [2, 4]
    for row in rows:
        assert row["standard_temp_mib"] > 0 and row["saving_temp_mib"] > 0
        assert row["standard_step_s"] > 0 and row["saving_step_s"] > 0
        assert row["gradient_angle_deg"] < 1e-2
    assert (tmp_path / "memory.png").stat().st_size > 0
    assert "memory-saving temp" in benchmark.table(rows)
