"""The four comparisons on mnist5k, each sized for at most 60 minutes on 2 CPU cores.

Every table names a config of `jinvnet.train.configs` (`base`) and changes only
what it compares (factory, model size, seed, train.num_steps); `trainer` holds
further changes of any trainer section and is empty here (the smoke config fills
it). The arithmetic behind each num_steps is in the README.
"""

import ml_collections

from experiments.path_to_invertibility.configs import mnist5k as path_mnist5k

SEEDS = (0, 1, 2)


def _glow_without_logit() -> ml_collections.ConfigDict:
    """Glow in the README main job's recipe, minus the logit transform.

    The comparator of the MintNet and i-ConvNet flows, which have no logit
    transform: same recipe, same preprocessing.
    """
    return ml_collections.ConfigDict(
        {
            "key": "glow_d8_no_logit",
            "base": "mnist5k_cinc_uniform",
            "factory": "multiscale.glow",
            "kwargs": {
                "num_levels": 2,
                "steps_per_level": 8,
                "hidden_channels": 64,
                "coupling_min_scale": 0.1,
            },
        }
    )


def get_config() -> ml_collections.ConfigDict:
    config = ml_collections.ConfigDict()
    config.dataset = "mnist5k"

    # Seed 001 Table 3 analogue: 4 flows x D in (4, 8) x 3 seeds = 24 runs.
    config.cinc = ml_collections.ConfigDict()
    config.cinc.base = "mnist5k_cinc_uniform"  # the main job, uniform noise
    config.cinc.factories = ("glow", "emerging", "cinc", "cinc_quad")
    config.cinc.steps_per_level = (4, 8)
    config.cinc.seeds = SEEDS
    config.cinc.num_steps = 400  # README: 24 runs in about 50 min
    config.cinc.model = ml_collections.ConfigDict()  # other kwargs (smoke)
    config.cinc.trainer = ml_collections.ConfigDict()

    # Seed 002: MintNet density and classifier, and Glow without the logit.
    config.mintnet = ml_collections.ConfigDict()
    config.mintnet.seeds = SEEDS
    config.mintnet.num_steps = 900
    config.mintnet.density_base = "mnist5k_cinc_uniform"
    config.mintnet.density = ml_collections.ConfigDict(
        {"num_blocks": 6, "num_groups": 8, "num_squeezes": 2}
    )
    config.mintnet.classifier_base = "mnist_mintnet_classifier"
    config.mintnet.classifier = ml_collections.ConfigDict(
        {"num_blocks": 6, "num_squeezes": 2, "pad_channels": 4}
    )
    config.mintnet.comparator = _glow_without_logit()
    config.mintnet.trainer = ml_collections.ConfigDict()
    config.mintnet.classifier_trainer = ml_collections.ConfigDict()

    # Seed 000 Table 1: the six rungs of the path to invertibility.
    config.path = ml_collections.ConfigDict()
    config.path.seeds = SEEDS
    config.path.experiment = path_mnist5k.get_config()

    # Seed 000: the fully convolutional FFT flow, and Glow without the logit.
    config.iconvnet_flow = ml_collections.ConfigDict()
    config.iconvnet_flow.seeds = SEEDS
    config.iconvnet_flow.num_steps = 900  # = mintnet's
    config.iconvnet_flow.base = "mnist5k_cinc_uniform"
    config.iconvnet_flow.kwargs = ml_collections.ConfigDict(
        {"num_levels": 2, "steps_per_level": 4}
    )
    config.iconvnet_flow.comparator = _glow_without_logit()
    config.iconvnet_flow.trainer = ml_collections.ConfigDict()
    return config
