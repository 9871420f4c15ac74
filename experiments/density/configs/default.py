"""CIFAR-10, CInC Flow L=3 D=32, lr 1e-3 (seed 001, Sec. 4 "Training setting").

Every field is a `jinvnet.train.configs.base()` field (the shared trainer) plus
`interpolation`. Change the flow with `model.kwargs.conv` ("1x1", "emerging",
"cinc", "fft") and `model.kwargs.coupling` ("affine", "quad"): the seed's Glow,
Emerging, CInC and CInC + quad columns are the same config with these two fields.
"""

import ml_collections

from jinvnet.train import configs


def get_config() -> ml_collections.ConfigDict:
    config = configs.base()
    config.data.name = "cifar10"
    config.model.factory = "MultiScaleFlow"
    config.model.kwargs = ml_collections.ConfigDict(
        {
            "num_levels": 3,
            "steps_per_level": 32,
            "conv": "cinc",
            "coupling": "affine",
            "hidden_channels": 512,
            "inverse_method": "fast",
        }
    )
    config.optim.learning_rate = 1e-3
    config.train.batch_size = 64
    config.train.num_steps = 500 * 50000 // 64  # the seed's 500 epochs
    config.train.checkpoint_every = 5000
    config.interpolation = ml_collections.ConfigDict({"num_pairs": 4, "num_points": 8})
    return config
