"""CInC inverse benchmark: 16x16x12 and 32x32x12, batch 100, plus a trained model."""

import ml_collections


def get_config() -> ml_collections.ConfigDict:
    config = ml_collections.ConfigDict()
    config.seed = 0
    # Timing: trained-like kernels (taps N(0, kernel_noise^2), log|diag| N(0, 0.1^2)).
    config.sizes = (16, 32)
    config.channels = 12
    config.batches = (100, 1)
    config.batch = 100  # part 2: test batch of the trained layers
    config.kernel_noise = 0.05
    config.repeats = 5
    config.methods = ("scan", "wavefront", "filter")
    # Trained kernels: a tiny CInC flow fitted by maximum likelihood (optax Adam) to
    # 16x16 images tiled from 2x2 scikit-learn digits (embedded, no download).
    config.train_steps = 300
    config.train_batch = 64
    config.learning_rate = 1e-3
    config.steps_per_level = 3
    config.hidden_channels = 32
    return config
