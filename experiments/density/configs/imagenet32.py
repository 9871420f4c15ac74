"""ImageNet32, CInC Flow L=3 D=48, lr 1e-3, 600 epochs (seed 001, Sec. 4)."""

from experiments.density.configs import default


def get_config():
    config = default.get_config()
    config.data.name = "imagenet32"
    config.model.kwargs.steps_per_level = 48
    config.train.num_steps = 600 * 1_281_149 // 64
    return config
