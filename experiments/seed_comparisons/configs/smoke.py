"""Every table on tiny settings (CI): 2 steps, width 4, one test batch of 50."""

import ml_collections

from experiments.seed_comparisons.configs import default


def _tiny_trainer() -> ml_collections.ConfigDict:
    return ml_collections.ConfigDict(
        {
            "optim": {"warmup_steps": 1},
            "train": {
                "batch_size": 8,
                "init_batch_size": 16,
                "eval_batch_size": 50,
                "eval_max_batches": 1,
                "log_every": 1,
                "tensorboard": False,
            },
        }
    )


def get_config():
    config = default.get_config()
    tiny_glow = {
        "num_levels": 1,
        "steps_per_level": 1,
        "hidden_channels": 4,
        "coupling_min_scale": 0.1,
    }

    config.cinc.steps_per_level = (1,)
    config.cinc.seeds = (0, 1)  # two seeds, so the std is exercised
    config.cinc.num_steps = 2
    config.cinc.model = ml_collections.ConfigDict(
        {"num_levels": 1, "hidden_channels": 4}
    )
    config.cinc.trainer = _tiny_trainer()

    config.mintnet.seeds = (0,)
    config.mintnet.num_steps = 2
    config.mintnet.density = ml_collections.ConfigDict(
        {"num_blocks": 2, "num_groups": 1, "num_squeezes": 1}
    )
    config.mintnet.classifier = ml_collections.ConfigDict(
        {"num_blocks": 1, "num_squeezes": 0, "pad_channels": 2}
    )
    config.mintnet.comparator.kwargs = tiny_glow
    config.mintnet.trainer = _tiny_trainer()
    config.mintnet.classifier_trainer = _tiny_trainer()

    config.path.seeds = (0,)
    experiment = config.path.experiment
    experiment.model.num_stages = 1
    experiment.model.layers_per_stage = 1
    experiment.optim.warmup_steps = 1
    experiment.train.update(
        {
            "batch_size": 8,
            "num_steps": 2,
            "init_batch_size": 16,
            "log_every": 1,
            "checkpoint_every": 2,
            "eval_batch_size": 50,
            "eval_max_batches": 1,
        }
    )

    config.iconvnet_flow.seeds = (0,)
    config.iconvnet_flow.num_steps = 2
    config.iconvnet_flow.kwargs = ml_collections.ConfigDict(
        {"num_levels": 1, "steps_per_level": 1}
    )
    config.iconvnet_flow.comparator.kwargs = tiny_glow
    config.iconvnet_flow.trainer = _tiny_trainer()
    return config
