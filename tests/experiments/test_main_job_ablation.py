"""Smoke test: the main job's ablation runs variants per seed, resumes, tabulates."""

import json
import subprocess

import pytest

from experiments.main_job import ablation

pytestmark = pytest.mark.slow  # end to end; see docs/testing.md

_TINY = [  # the tiny digits flow of the main-job benchmark's smoke run
    "--config=digits_cinc",
    "--config.train.num_steps=2",
    "--config.train.checkpoint_every=2",
    "--config.train.sample_check_draws=16",
    "--config.train.num_samples=4",
    "--config.model.kwargs.steps_per_level=1",
    "--config.model.kwargs.hidden_channels=8",
]


def test_runs_each_variant_once_and_tables_their_summaries(tmp_path, monkeypatch):
    argv = ["--workdir", str(tmp_path), "--variants", "uniform,lr3e-3", "--seeds", "0"]
    rows = ablation.main([*argv, "--jobs", "2", *_TINY])
    by_name = {row["variant"]: row for row in rows}
    for variant in ("uniform", "lr3e-3"):
        run = tmp_path / variant / "seed_0"
        summary = json.loads((run / "summary.json").read_text())
        assert by_name[variant]["test_bits_per_dim"] == [
            round(summary["test"]["bits_per_dim"], 4)
        ]
        assert by_name[variant]["steps"] == 2 == summary["step"]
    lr = {
        v: json.loads((tmp_path / v / "seed_0" / "config.json").read_text())["optim"][
            "learning_rate"
        ]
        for v in ("uniform", "lr3e-3")
    }
    assert lr["lr3e-3"] == 3e-3 != lr["uniform"]
    assert (tmp_path / "ablation.md").read_text().count("| lr3e-3 |") == 1

    # A rerun trains nothing: every run is finished.
    def no_training(*args, **kwargs):
        raise AssertionError(f"trained again: {args}")

    monkeypatch.setattr(subprocess, "run", no_training)
    assert ablation.main([*argv, *_TINY]) == rows


def test_raises_if_unknown_variant(tmp_path):
    with pytest.raises(SystemExit, match="unknown variants"):
        ablation.main(["--workdir", str(tmp_path), "--variants", "nope"])
