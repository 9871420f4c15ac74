"""Training: optax chains, data-parallel steps, orbax checkpoints, the CLI loop."""

from jinvnet.train.checkpoint import Checkpointer, CheckpointError, CheckpointSaveError
from jinvnet.train.config_validation import validate_config
from jinvnet.train.configs import CONFIGS, get_config
from jinvnet.train.fit import FitResult, NonFiniteFitLossError, fit
from jinvnet.train.loop import (
    NonFiniteLossError,
    build_model,
    build_objective,
    parameter_counts,
    train_and_evaluate,
)
from jinvnet.train.objectives import Objective
from jinvnet.train.optim import make_optimizer
from jinvnet.train.parallel import data_mesh, shard_batch
from jinvnet.train.step import TrainState, make_eval_step, make_train_step

__all__ = [
    "CONFIGS",
    "CheckpointError",
    "CheckpointSaveError",
    "Checkpointer",
    "FitResult",
    "NonFiniteFitLossError",
    "NonFiniteLossError",
    "Objective",
    "TrainState",
    "build_model",
    "build_objective",
    "data_mesh",
    "fit",
    "get_config",
    "make_eval_step",
    "make_optimizer",
    "make_train_step",
    "parameter_counts",
    "shard_batch",
    "train_and_evaluate",
    "validate_config",
]
