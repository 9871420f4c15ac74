"""Seed 001 Table 4: sample 100 images from CIFAR-10- and ImageNet64-shaped flows.

The depths and shapes are the seed's (L3 D32 on 32x32x3, L4 D48 on 64x64x3). The
conditioner width is a flag: the seed's 512 is too slow for a 2-core CPU, so
`hidden_channels` defaults to 64 here (it changes every model's time alike).
"""

import ml_collections


def get_config() -> ml_collections.ConfigDict:
    config = ml_collections.ConfigDict()
    config.num_samples = 100
    config.batch_size = 100  # samples per call; num_samples is split into batches
    config.hidden_channels = 64
    config.temperature = 1.0
    config.param_noise = 0.01  # added to the conv parameters after init
    config.repeats = 3
    config.seed = 0
    # name -> (image shape, num_levels, steps_per_level)
    config.shapes = ml_collections.ConfigDict(
        {
            "cifar10": ((32, 32, 3), 3, 32),
            "imagenet64": ((64, 64, 3), 4, 48),
        }
    )
    config.shape_names = ("cifar10", "imagenet64")
    # Table 4's columns: Glow (1x1), Emerging, CInC 3x3, CInC + quad coupling.
    config.models = ("glow", "emerging", "cinc", "cinc_quad")
    # The sequential reference, the anti-diagonal wavefront, and the default ("fast":
    # the row solver for the flows' layer shapes); see jinvnet/ops/cinc.py.
    config.methods = ("scan", "wavefront", "fast")
    # Each level's steps as one lax.scan (`MultiScaleFlow.scan_steps`, the
    # library's default): one step to compile per level instead of D. False
    # writes them out (the width-512 table of docs/benchmarks.md was taken so).
    config.scan_steps = True
    return config
