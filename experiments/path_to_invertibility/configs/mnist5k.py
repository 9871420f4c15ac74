"""A CPU-sized run on the embedded 28x28 MNIST digits (mnist5k): 2 stages.

28 -> 14 -> 7 pixels (1 -> 4 -> 16 channels), 3 convolutions per stage, 3,000
steps of batch 128 (96 epochs of the 4,000 training digits), the test split
evaluated once at the end. Used by `experiments/seed_comparisons` (table "path").
"""

from experiments.path_to_invertibility.configs import default


def get_config():
    config = default.get_config()
    config.data.name = "mnist5k"
    config.model.num_stages = 2
    config.model.layers_per_stage = 3
    config.optim.warmup_steps = 100
    config.train.batch_size = 128
    config.train.num_steps = 3000
    config.train.log_every = 100
    config.train.checkpoint_every = 3000
    config.train.eval_batch_size = 500
    return config
