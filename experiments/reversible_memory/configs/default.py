"""Depth sweep of an i-RevNet-style classifier step: 4 to 64 reversible blocks."""

import ml_collections


def get_config() -> ml_collections.ConfigDict:
    config = ml_collections.ConfigDict()
    config.depths = (4, 8, 16, 32, 64)
    config.batch = 32
    config.image_size = 32
    config.image_channels = 3
    config.hidden_channels = 64
    config.block = "irevnet"
    config.num_classes = 10
    config.repeats = 5
    config.seed = 0
    return config
