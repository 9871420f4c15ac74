"""MintNet inversion (seed 002, Fig. 4) on the embedded 8x8 digits, CPU-sized."""

import ml_collections


def get_config() -> ml_collections.ConfigDict:
    """Default: a 3-block MintNet trained briefly on digits, then inverted."""
    config = ml_collections.ConfigDict()
    config.seed = 0
    config.dataset = "digits"
    config.model = ml_collections.ConfigDict(
        {"num_blocks": 3, "num_groups": 4, "num_squeezes": 1}
    )
    config.train_steps = 400  # brief density training through jinvnet.train pieces
    config.batch_size = 64
    config.learning_rate = 1e-3
    config.eval_batch_size = 256  # images inverted per measurement
    config.alphas = (0.5, 0.8, 1.0, 1.2, 1.5, 1.9)
    config.num_steps = (1, 2, 3, 4, 5, 6, 8, 10, 15, 20, 30, 50)
    config.target = 1e-5  # relative reconstruction error to report
    config.timing_repeats = 5
    # Algorithm 1 (memory 1) next to Anderson acceleration, trained model, alpha 1.
    config.anderson_memories = (1, 2, 3, 5, 8)
    config.acceleration_steps = (5, 8, 10, 12, 15, 20)
    # k for the Krylov lower bound per layer (k steps = k + 1 forward passes).
    config.bound_steps = (5, 8, 9, 10, 12, 15)
    return config
