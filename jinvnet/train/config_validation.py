"""`validate_config`: checks a training config's values before anything runs.

`train_and_evaluate` and the CLI call it first, so that a bad value (a zero
`checkpoint_every`, a negative `num_steps`, an unknown optimiser) stops the run
with a `ValueError` naming the field, what it must be and what it got, instead of
a `ZeroDivisionError` mid-run or a run that silently trains nothing.


Example (a doctest):

    >>> from jinvnet.train import configs
    >>> config = configs.base()
    >>> validate_config(config)                       # the defaults are valid
    >>> config.train.batch_size = 0
    >>> try:
    ...     validate_config(config)
    ... except ValueError as error:
    ...     print(str(error).split(";")[0])
    train.batch_size must be a positive integer, got 0
"""

import math
from typing import Any

import ml_collections

from jinvnet.train.objectives import OBJECTIVES
from jinvnet.train.optim import DECAYS, OPTIMIZERS


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _fail(path: str, requirement: str, value: Any) -> None:
    raise ValueError(
        f"{path} must be {requirement}, got {value!r}; set it with "
        f"--config.{path}=<value> (see --show_config for the defaults)"
    )


def _positive_int(path: str, value: Any) -> None:
    if not (_is_int(value) and value >= 1):
        _fail(path, "a positive integer", value)


def _non_negative_int(path: str, value: Any) -> None:
    if not (_is_int(value) and value >= 0):
        _fail(path, "a non-negative integer", value)


def _positive_number(path: str, value: Any) -> None:
    if not (_is_number(value) and math.isfinite(value) and value > 0):
        _fail(path, "a finite number > 0", value)


def _non_negative_number(path: str, value: Any) -> None:
    if not (_is_number(value) and math.isfinite(value) and value >= 0):
        _fail(path, "a finite number >= 0", value)


def _unit_interval(path: str, value: Any) -> None:
    if not (_is_number(value) and 0 <= value < 1):
        _fail(path, "a number in [0, 1)", value)


def _one_of(path: str, value: Any, choices) -> None:
    if value not in choices:
        _fail(path, f"one of {sorted(choices)}", value)


def _flag(path: str, value: Any) -> None:
    if not isinstance(value, bool):
        _fail(path, "True or False", value)


def validate_config(config: ml_collections.ConfigDict) -> None:
    """Checks every value of a training config (the fields of `configs.base()`).

    Steps, batch sizes and intervals must be positive integers; counts that may
    be 0 (`keep_best`, `eval_max_batches`, `warmup_steps`, `image_size`, `seed`)
    non-negative integers; rates and norms finite numbers in range; the
    objective, optimiser and decay known names; temperatures a non-empty
    sequence of positive numbers; the switches booleans. The dataset and
    model names are checked where they are looked up (`load_dataset`,
    `build_model`), which also happens before training starts.

    Args:
      config: a config from `jinvnet.train.configs` (after any overrides).

    Raises:
      ValueError: for the first bad value, naming the field, what it must be and
        the value it has.
    """
    _non_negative_int("seed", config.seed)
    _one_of("objective", config.objective, OBJECTIVES)
    _non_negative_number("hybrid_weight", config.hybrid_weight)

    _non_negative_int("data.image_size", config.data.image_size)
    if not (_is_int(config.data.num_bits) and 1 <= config.data.num_bits <= 8):
        _fail("data.num_bits", "an integer in [1, 8]", config.data.num_bits)

    optim = config.optim
    _one_of("optim.name", optim.name, OPTIMIZERS)
    _one_of("optim.decay", optim.decay, DECAYS)
    _positive_number("optim.learning_rate", optim.learning_rate)
    _non_negative_int("optim.warmup_steps", optim.warmup_steps)
    _unit_interval("optim.b1", optim.b1)
    _unit_interval("optim.b2", optim.b2)
    _positive_number("optim.eps", optim.eps)
    _non_negative_number("optim.weight_decay", optim.weight_decay)
    _non_negative_number("optim.grad_clip_norm", optim.grad_clip_norm)
    _unit_interval("optim.ema_decay", optim.ema_decay)

    train = config.train
    for name in (
        "num_steps",
        "batch_size",
        "init_batch_size",
        "eval_batch_size",
        "log_every",
        "checkpoint_every",
        "keep_last",
        "num_samples",
        "sample_check_draws",
        "baseline_max_examples",
    ):
        _positive_int(f"train.{name}", train[name])
    for name in ("keep_best", "eval_max_batches"):
        _non_negative_int(f"train.{name}", train[name])
    for name in ("tensorboard", "figures", "sample_score"):
        _flag(f"train.{name}", train.get(name, True))
    temperatures = train.temperatures
    if not (
        isinstance(temperatures, (tuple, list))
        and temperatures
        and all(_is_number(t) and math.isfinite(t) and t > 0 for t in temperatures)
    ):
        _fail(
            "train.temperatures",
            "a non-empty sequence of finite numbers > 0",
            temperatures,
        )
