"""Additive vs affine i-RevNet classifiers and flows on the embedded digits (CPU)."""

import ml_collections


def get_config() -> ml_collections.ConfigDict:
    config = ml_collections.ConfigDict()
    config.dataset = "digits"
    config.blocks_per_stage = (8,)
    config.hidden_channels = 32
    config.batch = 64
    config.num_steps = 600
    config.learning_rate = 2e-3
    # (objective, coupling, regulariser): objective "classifier" (cross-entropy) or
    # "flow" (NLL); regulariser "none", "fd" (bi-directional finite differences)
    # or "nf" (the flow NLL added to the classifier loss).
    config.variants = (
        ("classifier", "additive", "none"),
        ("classifier", "affine", "none"),
        ("classifier", "affine", "fd"),
        ("classifier", "affine", "nf"),
        ("flow", "additive", "none"),
        ("flow", "affine", "none"),
        ("flow", "affine", "fd"),
    )
    config.fd_weight = 1e-2
    config.fd_epsilon = 0.1
    config.nf_weight = 1e-2
    config.angle_every = 50
    config.eval_examples = 64
    config.attack_steps = 20
    config.power_iterations = 20
    config.seed = 0
    return config
