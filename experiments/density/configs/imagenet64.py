"""ImageNet64, CInC Flow L=4 D=48, lr 1e-3, 1000 epochs (seed 001, Sec. 4)."""

from experiments.density.configs import default


def get_config():
    config = default.get_config()
    config.data.name = "imagenet64"
    config.model.kwargs.num_levels = 4
    config.model.kwargs.steps_per_level = 48
    config.train.num_steps = 1000 * 1_281_149 // 64
    return config
