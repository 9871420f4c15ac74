"""Two steps of one variant (affine classifier + finite-difference penalty) on a
tiny network (smoke test)."""

from experiments.stability.configs import default


def get_config():
    config = default.get_config()
    config.blocks_per_stage = (1,)
    config.hidden_channels = 4
    config.batch = 8
    config.num_steps = 2
    config.variants = (("classifier", "affine", "fd"),)
    config.angle_every = 1
    config.eval_examples = 4
    config.attack_steps = 2
    config.power_iterations = 2
    return config
