"""Tiny settings for the smoke test (seconds on a CPU)."""

from experiments.cinc_inverse.configs import default


def get_config():
    config = default.get_config()
    config.shapes = ((4, 4),)
    config.batches = (3,)
    config.batch = 3
    config.repeats = 1
    config.train_steps = 2
    config.train_batch = 8
    config.steps_per_level = 1
    config.hidden_channels = 4
    return config
