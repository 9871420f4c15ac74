"""CIFAR-10, CInC + quad coupling, L=3 D=32 (seed 001, Tables 1, 2)."""

from experiments.density.configs import default


def get_config():
    config = default.get_config()
    config.model.kwargs.coupling = "quad"
    return config
