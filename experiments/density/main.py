"""Seed 001 Tables 1-3: trains a named multi-scale flow config, reports bits/dim.

The configs are the training CLI's (`jinvnet.train.configs`: cifar10_glow,
cifar10_emerging, cifar10_cinc, cifar10_cinc_quad, cifar10_cinc_d4 / _d8,
imagenet32_cinc (_d4, _d8), imagenet64_cinc, with the seed's settings), and any
field is overridden the same way, `--config.<field>=<value>`. Writes to --workdir
what the trainer writes (checkpoints, metrics.jsonl, samples_T*.png,
reconstructions.png, summary.json) and a latent interpolation grid between test
images (interpolation.png).

    python -m experiments.density.main --config=cifar10_cinc --workdir=/tmp/c10 \
        --config.data.data_dir=/data/tfds
    python -m experiments.density.main --config=cifar10_cinc \
        --config.model.factory=multiscale.glow --count_params
"""

import argparse
import json
import os

from jinvnet import train
from jinvnet.train import config_cli, configs, evaluation

DEFAULT_CONFIG = "cifar10_cinc"


def run(config, workdir: str, *, dataset=None) -> dict:
    """Trains, evaluates, writes the figures; returns the trainer's summary."""
    dataset = dataset or train.loop.load_dataset(config)
    summary = train.train_and_evaluate(config, workdir, dataset=dataset, progress=False)
    model, variables, _ = evaluation.restore_variables(config, workdir, dataset)
    summary["interpolation_png"] = evaluation.save_interpolation(
        model, variables, dataset, os.path.join(workdir, "interpolation.png")
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
    parser = argparse.ArgumentParser(
        description=__doc__.splitlines()[0],
        epilog=f"--config=NAME (default {DEFAULT_CONFIG}), then "
        "--config.<field>=<value> overrides, as in the training CLI. configs: "
        + ", ".join(sorted(configs.CONFIGS)),
        allow_abbrev=False,
    )
    parser.add_argument("--workdir", default=None)
    parser.add_argument(
        "--count_params", action="store_true", help="print the parameter count only"
    )
    args, config_args = parser.parse_known_args(argv)
    config = config_cli.config_or_exit(config_args, default=DEFAULT_CONFIG)
    if args.count_params:
        counts = train.parameter_counts(config, _SHAPES[config.data.name])
        name = config_cli.config_name(config_args, default=DEFAULT_CONFIG)
        print(json.dumps({"config": name, **counts}))
        return counts
    if not args.workdir:
        parser.error("--workdir is required to train")
    summary = run(config, args.workdir)
    print(json.dumps(summary, indent=2))
    return summary


if __name__ == "__main__":
    main()
