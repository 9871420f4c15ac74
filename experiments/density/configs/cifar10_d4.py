"""cifar10, the small CInC Flow of seed 001 Table 3: L=3 D=4, 600 epochs."""

from experiments.density.configs import default


def get_config():
    config = default.get_config()
    config.data.name = "cifar10"
    config.model.kwargs.steps_per_level = 4
    config.train.num_steps = 600 * 50000 // 64
    return config
