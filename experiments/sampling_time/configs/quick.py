"""Tiny shapes for the smoke test (seconds on a CPU)."""

import ml_collections

from experiments.sampling_time.configs import default


def get_config() -> ml_collections.ConfigDict:
    config = default.get_config()
    config.num_samples = 4
    config.batch_size = 2
    config.hidden_channels = 4
    config.repeats = 1
    config.shapes = ml_collections.ConfigDict({"tiny": ((8, 8, 2), 2, 1)})
    config.shape_names = ("tiny",)
    return config
