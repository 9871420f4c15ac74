"""Smoke test of experiments/density: trains the tiny CInC flow on digits."""

import json

import pytest

from experiments.density import main

pytestmark = pytest.mark.slow  # end to end; see docs/testing.md


def test_smoke_run_trains_and_writes_figures(tmp_path):
    summary = main.main(["--config", "smoke", "--workdir", str(tmp_path)])
    for name in ("interpolation.png", "samples_T1.0.png", "reconstructions.png"):
        assert (tmp_path / name).exists(), name
    assert summary["reconstruction_max_abs_error"] < 1e-4
    records = [json.loads(line) for line in open(tmp_path / "metrics.jsonl")]
    train_bpd = [r["bits_per_dim"] for r in records if r["split"] == "train"]
    assert train_bpd[-1] < train_bpd[0]  # the bits/dim go down
    assert summary["test"]["bits_per_dim"] < train_bpd[0]


def test_count_params_prints_stored_and_free_counts(capsys):
    counts = main.main(["--config", "smoke", "--count_params"])
    assert 0 < counts["free_params"] < counts["params"]
    assert json.loads(capsys.readouterr().out)["params"] == counts["params"]
