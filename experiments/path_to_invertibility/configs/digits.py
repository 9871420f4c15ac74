"""A CPU-sized run on the embedded 8x8 digits: 1 stage, a few hundred steps."""

from experiments.path_to_invertibility.configs import default


def get_config():
    config = default.get_config()
    config.data.name = "digits"
    config.model.num_stages = 1
    config.model.layers_per_stage = 3
    config.optim.warmup_steps = 20
    config.train.batch_size = 64
    config.train.num_steps = 300
    config.train.init_batch_size = 128
    config.train.log_every = 50
    config.train.checkpoint_every = 300
    config.train.eval_batch_size = 297
    return config
