"""Tiny sweep for the smoke test (seconds on a CPU)."""

from experiments.reversible_memory.configs import default


def get_config():
    config = default.get_config()
    config.depths = (2, 4)
    config.batch = 2
    config.image_size = 4
    config.hidden_channels = 4
    config.repeats = 1
    return config
