"""Runs a flow's training step and sampling path many times; meant for a subprocess.

    python -m tests.hang_probe MODEL [--steps N] [--samples N]

A hang (see ../shared/TESTING.md, "Hangs") never returns; the calling test runs this
in a subprocess with a timeout, so a deadlock fails the test instead of stalling
the suite. Prints one line per phase and exits non-zero on a non-finite loss or
sample.
"""

import argparse
import sys
import time

import jax
import jax.numpy as jnp
import numpy as np

from jinvnet import models
from tests import training

# Each model at the shapes of its seed table on mnist5k (28 x 28 x 1, batch 64).
MODELS = {
    # seed 000's flow: 2 levels x 4 steps, the iconvnet_flow table's model. On
    # jaxlib 0.10.2 with batched LAPACK LUs it hung in its first gradient step.
    "iconvnet_flow": lambda: models.iconvnet_flow(num_levels=2, steps_per_level=4),
    # dense 1x1 convolutions: one (unbatched) slogdet and inverse per layer.
    "glow_dense": lambda: models.Sequential(
        [models.Squeeze()] + [models.glow_step(conv="dense") for _ in range(8)]
    ),
}


def main(argv: list[str] | None = None) -> int:
    """Trains `--steps` Adam steps, then draws `--samples` batches; 0 if all finite."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("model", choices=sorted(MODELS))
    parser.add_argument("--steps", type=int, default=50)
    parser.add_argument("--samples", type=int, default=10)
    parser.add_argument("--batch", type=int, default=64)
    args = parser.parse_args(argv)
    model = models.FlowDensity(MODELS[args.model]())
    images = np.random.default_rng(0).uniform(size=(args.batch, 28, 28, 1))
    images = images.astype(np.float32)
    start = time.time()
    history = training.train_metrics(
        model,
        "density",
        {"image": images},
        steps=args.steps,
        learning_rate=1e-3,
    )
    losses = [metrics["loss"] for metrics in history]
    print(f"trained {len(losses)} steps in {time.time() - start:.1f} s", flush=True)
    variables = model.init(jax.random.PRNGKey(0), images)

    @jax.jit
    def sample(key):
        return model.apply(variables, images).sample(
            seed=key, sample_shape=(args.batch,)
        )

    start = time.time()
    draws = [
        jax.block_until_ready(sample(jax.random.PRNGKey(i)))
        for i in range(args.samples)
    ]
    print(f"drew {len(draws)} batches in {time.time() - start:.1f} s", flush=True)
    finite = np.isfinite(losses).all() and all(jnp.isfinite(d).all() for d in draws)
    return 0 if finite else 1


if __name__ == "__main__":
    sys.exit(main())
