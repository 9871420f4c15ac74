"""Smoke test of experiments/reversible_memory on tiny shapes."""

import json

import pytest

from experiments.reversible_memory import benchmark, main

pytestmark = pytest.mark.slow  # end to end; see docs/testing.md


def test_quick_run_measures_both_paths(tmp_path):
    # The quick config, with one field overridden through config_flags.
    rows = main.main(
        ["--quick", "--config.depths=(2, 3)", "--output_dir", str(tmp_path)]
    )
    saved = json.loads((tmp_path / "results.json").read_text())["rows"]
    assert [r["depth"] for r in saved] == [2, 3]
    for row in rows:
        assert row["standard_temp_mib"] > 0 and row["saving_temp_mib"] > 0
        assert row["standard_step_s"] > 0 and row["saving_step_s"] > 0
        assert row["gradient_angle_deg"] < 1e-2
    assert (tmp_path / "memory.png").stat().st_size > 0
    assert "memory-saving temp" in benchmark.table(rows)


def test_bad_config_or_override_stops_before_running(tmp_path):
    with pytest.raises(SystemExit, match="unknown config 'nope'; known configs: "):
        main.main(["--config=nope", "--output_dir", str(tmp_path)])
    with pytest.raises(SystemExit, match="no field 'dpths'"):
        main.main(["--quick", "--config.dpths=(2,)", "--output_dir", str(tmp_path)])
    assert not (tmp_path / "results.json").exists()
