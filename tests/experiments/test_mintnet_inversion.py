"""Smoke test of experiments/mintnet_inversion: the full run on tiny settings."""

import json

import pytest

from experiments.mintnet_inversion import main

pytestmark = pytest.mark.slow  # end to end; see docs/testing.md


def test_smoke_run_writes_plot_table_and_results(tmp_path):
    results = main.main(["--config=smoke", f"--workdir={tmp_path}"])
    for name in ("inversion.png", "inversion_table.md", "results.json"):
        assert (tmp_path / name).exists(), name
    assert json.loads((tmp_path / "results.json").read_text())["num_steps"] == [1, 3]
    curves = results["sweeps"]["trained (2 steps)"]
    assert curves["1.0"][-1] < 1e-5  # alpha = 1 inverts the tiny layer pair
    report = results["tolerance_loop_trained"][0]
    assert report["all_converged"] and report["relative_error_linf"] < 1e-5
    assert results["timing"]["inverse_over_forward"] > 0
