"""CelebA 64x64, CInC Flow L=4 D=32: attribute directions in the latent (seed 001).

`jinvnet.train.configs.base()` fields (the shared trainer) plus `attributes`.
"""

import ml_collections

from jinvnet.train import configs


def get_config() -> ml_collections.ConfigDict:
    config = configs.base()
    config.data.name = "celeb_a"
    config.data.image_size = 64
    config.data.num_bits = 5  # Glow's CelebA setting
    config.model.factory = "MultiScaleFlow"
    config.model.kwargs = ml_collections.ConfigDict(
        {
            "num_levels": 4,
            "steps_per_level": 32,
            "conv": "cinc",
            "coupling": "affine",
            "hidden_channels": 512,
            "inverse_method": "fast",
        }
    )
    config.optim.learning_rate = 1e-3
    config.train.num_steps = 100000
    config.train.checkpoint_every = 5000
    config.attributes = ml_collections.ConfigDict(
        {
            # The seed's edits: smile, glasses, hair colour, age.
            "names": ("Smiling", "Eyeglasses", "Blond_Hair", "Young"),
            "num_encode": 10000,  # training images encoded for the directions
            "encode_batch_size": 256,
            "num_images": 4,  # test images edited
            "scales": (-2.0, -1.0, 0.0, 1.0, 2.0),  # multiples of each direction
        }
    )
    return config
