"""The CLI (`python -m jinvnet.train`): the README main job for a few steps, flags."""

import json

import pytest

from jinvnet import train
from jinvnet.train import __main__ as cli
from jinvnet.train import configs


def test_main_job_runs_a_few_steps(tmp_path, capsys):
    workdir = tmp_path / "digits"
    summary = cli.main(
        [
            f"--config={cli.MAIN_JOB_CONFIG}",
            f"--workdir={workdir}",
            "--no_progress",
            "--config.train.num_steps=3",
            "--config.train.checkpoint_every=3",
            "--config.train.num_samples=4",
            "--config.model.kwargs.steps_per_level=1",
            "--config.model.kwargs.hidden_channels=8",
        ]
    )
    out = capsys.readouterr().out
    assert "test bits/dim:" in out and "categorical baseline" in out
    assert summary["step"] == 3
    for name in ("samples_T1.0.png", "loss_curve.png", "summary.json", "checkpoints/3"):
        assert (workdir / name).exists(), name
    assert json.loads((workdir / "summary.json").read_text())["dataset"] == "digits"


def test_every_named_config_builds_its_model():
    for name in configs.CONFIGS:
        config = configs.get_config(name)
        assert train.build_model(config) is not None, name


def test_overrides_are_typed_and_checked():
    config = configs.get_config("digits_glow")
    cli._apply_overrides(
        config,
        [
            "--config.train.num_steps=7",
            "--config.optim.learning_rate=1",
            "--config.model.kwargs.hidden_channels=4",
            "--config.data.name=mnist",
        ],
    )
    assert config.train.num_steps == 7
    assert config.optim.learning_rate == 1.0 and isinstance(
        config.optim.learning_rate, float
    )
    assert config.data.name == "mnist"
    with pytest.raises(SystemExit, match="no field 'nm_steps'"):
        cli._apply_overrides(config, ["--config.train.nm_steps=3"])
    with pytest.raises(SystemExit, match="unrecognised argument"):
        cli._apply_overrides(config, ["--steps=3"])


def test_raises_if_unknown_config():
    with pytest.raises(SystemExit, match="unknown config 'nope'; known configs: "):
        cli.main(["--config=nope"])


def test_help_lists_configs_and_override_syntax():
    text = cli._parser().format_help()
    assert "--config.train.num_steps" in text
    assert "digits_glow" in text
