"""Tiny settings for the CI smoke test: a couple of steps, two alphas."""

from experiments.mintnet_inversion.configs import default


def get_config():
    """`default` with one block, 2 training steps and a short sweep."""
    config = default.get_config()
    config.model.num_blocks = 1
    config.model.num_squeezes = 0
    config.model.num_groups = 1
    config.train_steps = 2
    config.batch_size = 8
    config.eval_batch_size = 8
    config.alphas = (1.0, 1.9)
    config.num_steps = (1, 3)
    config.timing_repeats = 1
    config.anderson_memories = (1, 3)
    config.acceleration_steps = (1, 3)
    config.bound_steps = (1, 2)
    return config
