"""Seed 000 Fig. 2 sweep: batch 32, 3x3, c in {16..128} at m = 8, m in {8..32}."""

import ml_collections


def get_config() -> ml_collections.ConfigDict:
    config = ml_collections.ConfigDict()
    config.batch = 32
    config.kernel_size = 3
    config.channels = (16, 32, 64, 128)
    config.channel_sweep_size = 8
    config.sizes = (8, 16, 32)
    config.size_sweep_channels = 64
    config.repeats = 50  # interleaved rounds (dense: repeats // 10)
    # The dense route materialises an n x n Jacobian, n = c m^2; above this it is
    # skipped (n = 8192 takes ~0.3 GB and minutes of LU on a 2-core CPU).
    config.dense_max_dim = 4096
    return config
