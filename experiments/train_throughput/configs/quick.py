"""Tiny shapes for the smoke test."""

import ml_collections

from experiments.train_throughput.configs import default


def get_config() -> ml_collections.ConfigDict:
    config = default.get_config()
    config.image_shape = (8, 8, 3)
    config.num_levels = 2
    config.steps_per_level = 1
    config.hidden_channels = 8
    config.batch_size = 8
    config.steps = 1
    config.models = ("glow", "cinc")
    # a virtualenv's python with torch and normflows: adds the peer's Glow as a row
    config.peer_python = ""
    config.peer_threads = 0  # torch threads; 0 = every core
    return config
