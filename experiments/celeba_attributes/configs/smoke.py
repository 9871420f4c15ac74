"""Tiny run for the smoke test on TFDS mock data (8x8 images, 2 training steps)."""

from experiments.celeba_attributes.configs import default


def get_config():
    config = default.get_config()
    config.data.image_size = 8
    config.model.kwargs.num_levels = 2
    config.model.kwargs.steps_per_level = 1
    config.model.kwargs.hidden_channels = 8
    config.optim.warmup_steps = 0
    config.train.batch_size = 8
    config.train.init_batch_size = 8
    config.train.eval_batch_size = 8
    config.train.num_steps = 2
    config.train.checkpoint_every = 2
    config.train.figures = False
    config.attributes.num_encode = 16
    config.attributes.encode_batch_size = 8
    config.attributes.num_images = 2
    config.attributes.scales = (-1.0, 0.0, 1.0)
    return config
