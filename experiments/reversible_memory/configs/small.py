"""The depth sweep 4..64 at a size a loaded 2-core CPU finishes in minutes."""

from experiments.reversible_memory.configs import default


def get_config():
    config = default.get_config()
    config.batch = 8
    config.image_size = 16
    config.hidden_channels = 32
    config.repeats = 3
    return config
