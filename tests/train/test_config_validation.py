"""validate_config: every bad training value is a ValueError naming field and value."""

import math
import re

import pytest

from jinvnet import train
from jinvnet.train import configs
from jinvnet.train.config_validation import validate_config
from tests.train._tiny import small_digits, tiny_config

# (field path, bad value, expected message fragment)
_BAD = [
    ("train.num_steps", 0, "train.num_steps must be a positive integer, got 0"),
    ("train.num_steps", -5, "train.num_steps must be a positive integer, got -5"),
    ("train.num_steps", 2.5, "train.num_steps must be a positive integer, got 2.5"),
    ("train.num_steps", True, "train.num_steps must be a positive integer, got True"),
    ("train.batch_size", 0, "train.batch_size must be a positive integer, got 0"),
    ("train.init_batch_size", -1, "train.init_batch_size must be a positive"),
    ("train.eval_batch_size", 0, "train.eval_batch_size must be a positive"),
    ("train.log_every", 0, "train.log_every must be a positive integer, got 0"),
    ("train.checkpoint_every", 0, "train.checkpoint_every must be a positive"),
    ("train.keep_last", 0, "train.keep_last must be a positive integer, got 0"),
    ("train.keep_best", -1, "train.keep_best must be a non-negative integer, got -1"),
    ("train.eval_max_batches", -1, "train.eval_max_batches must be a non-negative"),
    ("train.num_samples", 0, "train.num_samples must be a positive integer, got 0"),
    ("train.sample_check_draws", 0, "train.sample_check_draws must be a positive"),
    ("train.baseline_max_examples", 0, "train.baseline_max_examples must be a pos"),
    ("train.temperatures", (), "train.temperatures must be a non-empty sequence"),
    ("train.temperatures", (1.0, 0.0), "train.temperatures must be a non-empty seq"),
    ("train.temperatures", 1.0, "train.temperatures must be a non-empty sequence"),
    ("train.tensorboard", "yes", "train.tensorboard must be True or False, got 'yes'"),
    ("train.figures", 1, "train.figures must be True or False, got 1"),
    ("seed", -1, "seed must be a non-negative integer, got -1"),
    ("objective", "dense", "objective must be one of"),
    ("hybrid_weight", -1.0, "hybrid_weight must be a finite number >= 0, got -1.0"),
    ("data.image_size", -8, "data.image_size must be a non-negative integer, got -8"),
    ("data.num_bits", 0, "data.num_bits must be an integer in [1, 8], got 0"),
    ("data.num_bits", 9, "data.num_bits must be an integer in [1, 8], got 9"),
    ("optim.name", "sgd", "optim.name must be one of ['adam', 'adamax', 'adamw']"),
    ("optim.decay", "linear", "optim.decay must be one of ['constant', 'cosine']"),
    ("optim.learning_rate", 0.0, "optim.learning_rate must be a finite number > 0"),
    ("optim.learning_rate", math.nan, "optim.learning_rate must be a finite number"),
    ("optim.warmup_steps", -1, "optim.warmup_steps must be a non-negative integer"),
    ("optim.b1", 1.0, "optim.b1 must be a number in [0, 1), got 1.0"),
    ("optim.b2", -0.1, "optim.b2 must be a number in [0, 1), got -0.1"),
    ("optim.eps", 0.0, "optim.eps must be a finite number > 0, got 0.0"),
    ("optim.weight_decay", -1e-4, "optim.weight_decay must be a finite number >= 0"),
    ("optim.grad_clip_norm", -1.0, "optim.grad_clip_norm must be a finite number >="),
    ("optim.ema_decay", 1.0, "optim.ema_decay must be a number in [0, 1), got 1.0"),
]


def _set(config, path, value):
    *parents, leaf = path.split(".")
    node = config
    for name in parents:
        node = node[name]
    with node.ignore_type():
        node[leaf] = value


@pytest.mark.parametrize(
    "path, value, message", _BAD, ids=[f"{p}={v!r}" for p, v, _ in _BAD]
)
def test_raises_if_bad_value(path, value, message):
    config = tiny_config()
    _set(config, path, value)
    with pytest.raises(ValueError, match=re.escape(message)):
        validate_config(config)


def test_every_named_config_is_valid():
    for name in configs.CONFIGS:
        validate_config(configs.get_config(name))


def test_train_and_evaluate_rejects_before_writing_anything(tmp_path):
    config = tiny_config(checkpoint_every=0)
    workdir = tmp_path / "run"
    with pytest.raises(ValueError, match="train.checkpoint_every must be a positive"):
        train.train_and_evaluate(
            config, str(workdir), dataset=small_digits(), progress=False
        )
    assert not workdir.exists()
