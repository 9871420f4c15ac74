"""Training throughput of the CIFAR-10 L3 D32 flows at batch 64 (seed 001 models).

The conditioner width is a setting: the seed's 512 is very slow on a 2-core CPU, so
`hidden_channels` defaults to 64 here (on a GPU pass --hidden_channels 512).
"""

import ml_collections


def get_config() -> ml_collections.ConfigDict:
    config = ml_collections.ConfigDict()
    config.image_shape = (32, 32, 3)
    config.num_levels = 3
    config.steps_per_level = 32
    config.hidden_channels = 64
    config.batch_size = 64
    config.steps = 3  # timed steps per model, after one untimed (compiling) step
    config.seed = 0
    # CPU devices (the step is data parallel): 0 = one per core as many as divide
    # the batch, like the trainer's CLI (docs/training.md, "CPU devices"); N = N.
    # Set before JAX starts; a JAX already started keeps its devices with 0.
    config.cpu_devices = 0
    # presets in jinvnet.models.multiscale; ratios are to the first
    config.models = ("glow", "emerging", "cinc", "cinc_quad")
    # Steps layout per model: "unrolled" (written out), "scan" or "scanN" (one
    # lax.scan per level, N steps per iteration; issue 16 item 3).
    config.variants = ("unrolled",)
    # Latent distribution per model (benchmark.BASES): "split_prior" (the presets'
    # default) and/or "learned", the peer's (normflows' Glow, parameter for
    # parameter with glow).
    config.bases = ("split_prior",)
    # a virtualenv's python with torch and normflows: adds the peer's Glow as a row
    config.peer_python = ""
    config.peer_threads = 0  # torch threads; 0 = every core
    return config
