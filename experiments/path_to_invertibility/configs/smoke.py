"""Two steps per rung on the embedded digits (the CI smoke test)."""

from experiments.path_to_invertibility.configs import digits


def get_config():
    config = digits.get_config()
    config.model.layers_per_stage = 1
    config.optim.warmup_steps = 1
    config.train.batch_size = 8
    config.train.num_steps = 2
    config.train.init_batch_size = 16
    config.train.log_every = 1
    config.train.checkpoint_every = 2
    config.train.eval_batch_size = 32
    config.train.eval_max_batches = 1
    return config
