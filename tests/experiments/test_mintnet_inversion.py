"""Smoke test of experiments/mintnet_inversion: the full run on tiny settings."""

import json

import pytest

from experiments.mintnet_inversion import main

pytestmark = pytest.mark.slow  # end to end; see docs/testing.md


def test_smoke_run_writes_plot_table_and_results(tmp_path):
    results = main.main(["--config=smoke", f"--workdir={tmp_path}"])
    names = ("inversion.png", "inversion_table.md", "acceleration_table.md")
    for name in (*names, "results.json"):
        assert (tmp_path / name).exists(), name
    assert json.loads((tmp_path / "results.json").read_text())["num_steps"] == [1, 3]
    curves = results["sweeps"]["trained (2 steps)"]
    assert curves["1.0"][-1] < 1e-5  # alpha = 1 inverts the tiny layer pair
    report = results["tolerance_loop_trained"][0]
    assert report["all_converged"] and report["relative_error_linf"] < 1e-5
    assert results["timing"]["inverse_over_forward"] > 0
    # Algorithm 1 next to Anderson: memory 1 is the sweep's alpha = 1 curve.
    plain, mixed = results["acceleration_trained"]
    assert (plain["anderson_memory"], mixed["anderson_memory"]) == (1, 3)
    assert plain["errors"] == curves["1.0"]
    assert mixed["all_converged"] and mixed["tolerance_loop_error"] < 1e-5
    assert plain["passes_per_layer"] == [i + 1 for i in report["iterations_per_layer"]]
    table = (tmp_path / "acceleration_table.md").read_text().splitlines()
    assert len(table) == 4 and table[3].startswith("| 3 | ")
    # The Krylov lower bound: one row per Mint layer, never above Algorithm 1.
    bounds = results["krylov_bound_trained"]
    assert [row["upper"] for row in bounds] == [True, False]  # inversion order
    for row in bounds:
        for k, cell in row["bounds"].items():
            assert 0 <= cell["krylov_optimum"] <= cell["algorithm_1"] * (1 + 1e-6), k
    assert (tmp_path / "krylov_bound_table.md").read_text().count("\n") == 4
