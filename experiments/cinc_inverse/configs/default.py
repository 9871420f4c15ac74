"""CInC inverse benchmark: CIFAR-10 layer shapes, batches 100 and 1, trained flow."""

import ml_collections


def get_config() -> ml_collections.ConfigDict:
    config = ml_collections.ConfigDict()
    config.seed = 0
    # Timing: trained-like kernels (taps N(0, kernel_noise^2), log|diag| N(0, 0.1^2)).
    # (size, channels): the layer shapes of the CIFAR-10 L3 flow (16x16x12 ..
    # 4x4x48) and the ImageNet64 L4 flow (32x32x12 .. 4x4x96).
    config.shapes = ((16, 12), (8, 24), (4, 48), (32, 12), (16, 24), (8, 48), (4, 96))
    config.batches = (100, 1)
    config.batch = 100  # part 2: test batch of the trained layers
    config.kernel_noise = 0.05
    config.repeats = 15  # interleaved rounds; medians reported
    config.methods = ("scan", "rows", "wavefront", "filter")
    # Trained kernels: a tiny CInC flow fitted by maximum likelihood (optax Adam) to
    # 16x16 images tiled from 2x2 scikit-learn digits (embedded, no download).
    config.train_model = True  # False: timing only
    config.train_steps = 300
    config.train_batch = 64
    config.learning_rate = 1e-3
    config.steps_per_level = 3
    config.hidden_channels = 32
    return config
