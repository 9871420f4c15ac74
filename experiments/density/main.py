"""Trains a multi-scale flow (Glow / Emerging / CInC) and reports test bits/dim.

Writes to --workdir: checkpoints, metrics.jsonl, samples_T*.png (temperature
sampling), reconstructions.png, interpolation.png and summary.json.

    python -m experiments.density.main --config cifar10 --workdir /tmp/cifar_cinc \
        --data_dir /data/tfds
    python -m experiments.density.main --config cifar10 --conv 1x1 --count_params
    python -m experiments.density.main --config smoke --workdir /tmp/smoke
"""

import argparse
import importlib
import json

import jax
import jax.numpy as jnp

from experiments.density import interpolation
from jinvnet import models, train


def _config(name: str, args: argparse.Namespace):
    config = importlib.import_module(f"experiments.density.configs.{name}").get_config()
    for field in ("conv", "coupling", "inverse_method", "hidden_channels"):
        if getattr(args, field) is not None:
            config.model.kwargs[field] = getattr(args, field)
    if args.data_dir:
        config.data.data_dir = args.data_dir
    if args.num_steps is not None:
        config.train.num_steps = args.num_steps
    return config


def parameter_counts(config, image_shape: tuple[int, int, int]) -> dict[str, int]:
    """Stored and free parameter counts of the config's model (no compute)."""
    model = train.build_model(config)
    x = jax.ShapeDtypeStruct((1, *image_shape), jnp.float32)
    params = jax.eval_shape(model.init, jax.random.PRNGKey(0), x)["params"]
    return {
        "params": models.count_params(params),
        "free_params": models.count_params(params, free=True),
    }


def run(config, workdir: str, *, dataset=None) -> dict:
    """Trains, evaluates, writes the figures; returns the trainer's summary."""
    dataset = dataset or train.loop.load_dataset(config)
    summary = train.train_and_evaluate(config, workdir, dataset=dataset, progress=False)
    summary["interpolation_png"] = interpolation.save_interpolations(
        config, workdir, dataset
    )
    return summary


_SHAPES = {
    "cifar10": (32, 32, 3),
    "imagenet32": (32, 32, 3),
    "imagenet64": (64, 64, 3),
    "digits": (8, 8, 1),
    "mnist": (28, 28, 1),
    "celeb_a": (64, 64, 3),
}


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--config", default="default", help="a module in configs/")
    parser.add_argument("--workdir", default=None)
    parser.add_argument("--data_dir", default=None, help="prepared TFDS data_dir")
    parser.add_argument("--conv", default=None, help="1x1, emerging, cinc or fft")
    parser.add_argument("--coupling", default=None, help="affine or quad")
    parser.add_argument("--inverse_method", default=None, help="fast or scan")
    parser.add_argument("--hidden_channels", type=int, default=None)
    parser.add_argument("--num_steps", type=int, default=None)
    parser.add_argument(
        "--count_params", action="store_true", help="print the parameter count only"
    )
    args = parser.parse_args(argv)
    config = _config(args.config, args)
    if args.count_params:
        counts = parameter_counts(config, _SHAPES[config.data.name])
        print(json.dumps({"config": args.config, **counts}))
        return counts
    if not args.workdir:
        parser.error("--workdir is required to train")
    summary = run(config, args.workdir)
    print(json.dumps(summary, indent=2))
    return summary


if __name__ == "__main__":
    main()
