"""experiments/density: the training CLI's named configs, trained end to end."""

import json

import pytest

from experiments.density import main
from jinvnet.train import configs

pytestmark = pytest.mark.slow  # end to end; see docs/testing.md

_TINY = [  # digits_cinc, smaller: the same path in seconds
    "--config=digits_cinc",
    "--config.model.kwargs.steps_per_level=2",
    "--config.model.kwargs.hidden_channels=16",
    "--config.optim.warmup_steps=0",
    "--config.train.num_steps=30",
    "--config.train.log_every=5",
    "--config.train.checkpoint_every=30",
    "--config.train.eval_max_batches=1",
    "--config.train.num_samples=16",
    "--config.train.sample_check_draws=32",
    "--config.train.baseline_max_examples=500",
]


def test_smoke_run_trains_and_writes_figures(tmp_path):
    summary = main.main([*_TINY, "--workdir", str(tmp_path)])
    for name in ("interpolation.png", "samples_T1.0.png", "reconstructions.png"):
        assert (tmp_path / name).exists(), name
    assert summary["reconstruction_max_abs_error"] < 1e-4
    records = [json.loads(line) for line in open(tmp_path / "metrics.jsonl")]
    train_bpd = [r["bits_per_dim"] for r in records if r["split"] == "train"]
    assert train_bpd[-1] < train_bpd[0]  # the bits/dim go down
    assert summary["test"]["bits_per_dim"] < train_bpd[0]
    saved = json.loads((tmp_path / "config.json").read_text())
    assert saved["model"]["kwargs"]["steps_per_level"] == 2  # the overrides applied


def test_count_params_prints_stored_and_free_counts(capsys):
    counts = main.main([*_TINY, "--count_params"])
    assert 0 < counts["free_params"] < counts["params"]
    assert json.loads(capsys.readouterr().out)["params"] == counts["params"]


def test_seed_001_configs_have_the_seeds_settings():
    """Seed 001, "Training setting": lr 1e-3; CIFAR-10 L3 D32 500 epochs;
    ImageNet32 L3 D48 600 epochs; ImageNet64 L4 D48 1000 epochs; Table 3's D4 and
    D8 networks 600 epochs; batch 64, width 512."""
    expected = {
        "cifar10_glow": (3, 32, 500 * 50_000 // 64),
        "cifar10_emerging": (3, 32, 500 * 50_000 // 64),
        "cifar10_cinc": (3, 32, 500 * 50_000 // 64),
        "cifar10_cinc_quad": (3, 32, 500 * 50_000 // 64),
        "cifar10_cinc_d4": (3, 4, 600 * 50_000 // 64),
        "cifar10_cinc_d8": (3, 8, 600 * 50_000 // 64),
        "imagenet32_cinc": (3, 48, 600 * 1_281_149 // 64),
        "imagenet32_cinc_d4": (3, 4, 600 * 1_281_149 // 64),
        "imagenet32_cinc_d8": (3, 8, 600 * 1_281_149 // 64),
        "imagenet64_cinc": (4, 48, 1000 * 1_281_149 // 64),
    }
    for name, (levels, depth, steps) in expected.items():
        config = configs.get_config(name)
        kwargs = config.model.kwargs
        assert (kwargs.num_levels, kwargs.steps_per_level) == (levels, depth), name
        assert config.train.num_steps == steps, name
        assert kwargs.hidden_channels == 512 and config.train.batch_size == 64
        assert config.optim.learning_rate == 1e-3
    assert configs.get_config("cifar10_cinc_quad").model.factory.endswith("cinc_quad")


def test_unknown_override_is_a_clear_error():
    with pytest.raises(SystemExit, match="no field 'nope'"):
        main.main(["--config=cifar10_cinc", "--config.train.nope=1", "--count_params"])
