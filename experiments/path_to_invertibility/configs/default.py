"""CIFAR-10, full budget (for an accelerator): 3 stages of 3 convolutions."""

import ml_collections

from jinvnet.models import iconvnet


def get_config() -> ml_collections.ConfigDict:
    config = ml_collections.ConfigDict()
    config.seed = 0
    config.rungs = tuple(range(len(iconvnet.PATH_TO_INVERTIBILITY)))

    config.data = ml_collections.ConfigDict()
    config.data.name = "cifar10"
    config.data.data_dir = ""  # TFDS data_dir; "" = $TFDS_DATA_DIR or the default
    config.data.image_size = 0
    config.data.num_bits = 8

    config.model = ml_collections.ConfigDict()
    config.model.num_classes = 10
    config.model.num_stages = 3
    config.model.layers_per_stage = 3
    config.model.kernel_size = 3
    config.model.slope = 0.1

    config.optim = ml_collections.ConfigDict()
    config.optim.learning_rate = 1e-3
    config.optim.warmup_steps = 500
    config.optim.decay = "cosine"

    config.train = ml_collections.ConfigDict()
    config.train.batch_size = 128
    config.train.num_steps = 40000
    config.train.init_batch_size = 256
    config.train.log_every = 200
    config.train.checkpoint_every = 5000
    config.train.eval_batch_size = 500
    config.train.eval_max_batches = 0
    return config
