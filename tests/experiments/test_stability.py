"""Smoke test of experiments/stability on a tiny network for two steps."""

import json

import pytest

from experiments.stability import experiment, main
from experiments.stability.configs import quick
from jinvnet import data

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


def test_a_diverging_variant_is_reported_at_its_step():
    """An affine classifier at lr 1e4 blows up within a few steps: the row names
    the step and is diagnosed at the parameters that produced the NaN loss."""
    config = quick.get_config()
    config.learning_rate = 1e4
    config.num_steps = 20
    config.variants = (("classifier", "affine", "none"),)
    row = experiment.train_variant(
        config, data.load(config.dataset), "classifier", "affine", "none"
    )
    step = row["diverged_at_step"]
    assert step is not None and 1 <= step <= 20
    assert row["angles"] and row["angles"][-1][0] <= step - 1
    assert f"diverged (NaN loss) at step {step}" in experiment.table([row])
