"""Tiny sweep for the smoke test (seconds on a CPU)."""

from experiments.fft_conv_runtime.configs import default


def get_config():
    config = default.get_config()
    config.batch = 4
    config.channels = (2, 4)
    config.channel_sweep_size = 4
    config.sizes = (4,)
    config.size_sweep_channels = 4
    config.repeats = 2
    config.dense_max_dim = 200
    return config
