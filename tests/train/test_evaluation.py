"""Evaluating a trained run without training: best checkpoint, metrics, figures."""

import json

import numpy as np
import pytest

from jinvnet import train
from jinvnet.train import __main__ as cli
from jinvnet.train import evaluation
from tests.train._tiny import small_digits, tiny_config


def test_best_step_is_the_lowest_test_loss_on_disk(tmp_path):
    records = [
        {"step": 2, "split": "test", "loss": 3.0},
        {"step": 2, "split": "train", "loss": 0.1},
        {"step": 4, "split": "test", "loss": 2.0},
        {"step": 6, "split": "test", "loss": 2.5},
        {"step": 8, "split": "test", "loss": 1.0},  # not on disk any more
    ]
    (tmp_path / "metrics.jsonl").write_text(
        "".join(json.dumps(r) + "\n" for r in records)
    )
    assert evaluation.best_step(str(tmp_path), [2, 4, 6]) == 4
    assert evaluation.best_step(str(tmp_path), [2, 6, 10]) == 6
    with pytest.raises(train.CheckpointError, match="no checkpoint"):
        evaluation.best_step(str(tmp_path), [])


@pytest.mark.slow
def test_eval_only_restores_the_best_checkpoint_and_writes_figures(
    tmp_path, monkeypatch, capsys
):
    config = tiny_config(num_steps=4, checkpoint_every=2, keep_last=3)
    config.train.sample_check_draws = 16
    dataset = small_digits()
    train.train_and_evaluate(config, str(tmp_path), dataset=dataset, progress=False)
    tests = {
        json.loads(line)["step"]: json.loads(line)["bits_per_dim"]
        for line in (tmp_path / "metrics.jsonl").read_text().splitlines()
        if json.loads(line)["split"] == "test"
    }
    best = min(tests, key=tests.get)
    # The CLI reads the config the run saved; the data loader is the tiny split.
    monkeypatch.setattr(train.loop, "load_dataset", lambda config: dataset)
    summary = cli.main(["--workdir", str(tmp_path), "--eval_only", "--no_progress"])
    assert summary["step"] == best
    np.testing.assert_allclose(summary["test"]["bits_per_dim"], tests[best], rtol=1e-6)
    assert summary["samples_nonfinite_T1.0"] == 0
    out = capsys.readouterr().out
    # The recipe's main choices, so that two runs' printouts can be told apart.
    assert (
        "recipe: density model single_scale_glow(coupling='affine', "
        "hidden_channels=8, num_steps=1) on "
        "digits, uniform dequantisation; 4 steps of adam at learning rate 0.001 "
        "(2 warm-up steps, constant decay), batch 8, no EMA, seed 0"
    ) in out
    # The packaged digits classifier scores the samples and the test digits.
    scored = summary["sample_score_T1.0_label_counts"]
    assert sum(scored) == round(16 * summary["sample_score_T1.0_confident_share"])
    assert sum(summary["sample_score_test_label_counts"]) == round(
        len(dataset.test) * summary["sample_score_test_confident_share"]
    )
    assert "digit classifier on samples at T = 1.0:" in out
    assert "digit classifier on test digits:" in out
    for name in ("samples_T1.0.png", "interpolation.png", "summary.json"):
        assert (tmp_path / "eval" / name).stat().st_size > 0, name
    assert not (tmp_path / "samples_T1.0.png").exists()  # figures=False in training


def test_eval_only_without_a_checkpoint_says_so(tmp_path):
    with pytest.raises(train.CheckpointError, match="no checkpoint"):
        cli.main(["--workdir", str(tmp_path), "--eval_only", "--config=digits_cinc"])
