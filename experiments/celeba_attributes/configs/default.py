"""CelebA 64x64, CInC Flow L=4 D=32: attribute directions in the latent (seed 001).

The training CLI's `celeba64_cinc` config (jinvnet/train/configs.py) plus
`attributes`, the settings of the directions and edits.
"""

import ml_collections

from jinvnet.train import configs


def get_config() -> ml_collections.ConfigDict:
    config = configs.get_config("celeba64_cinc")
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
