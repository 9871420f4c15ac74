"""Tiny CInC Flow on the embedded 8x8 digits: the CI smoke run (L=2 D=2)."""

from experiments.density.configs import default


def get_config():
    config = default.get_config()
    config.data.name = "digits"
    config.model.kwargs.num_levels = 2
    config.model.kwargs.steps_per_level = 2
    config.model.kwargs.hidden_channels = 16
    config.optim.warmup_steps = 0
    config.train.batch_size = 64
    config.train.num_steps = 30
    config.train.log_every = 5
    config.train.checkpoint_every = 30
    config.train.eval_max_batches = 1
    config.train.num_samples = 16
    config.train.baseline_max_examples = 500
    config.interpolation.num_pairs = 2
    config.interpolation.num_points = 5
    return config
