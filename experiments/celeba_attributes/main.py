"""Seed 001 interpretability: attribute directions in a CInC Flow's latent (CelebA).

Trains (or resumes) the flow in --workdir with the shared trainer, encodes
`attributes.num_encode` training images, computes each attribute's covariance
direction in the latent and edits test images along it. Writes edits.png (one row
per image and attribute, one column per scale) and directions.json.

    python -m experiments.celeba_attributes.main --config default \
        --workdir /tmp/celeba --data_dir /data/tfds
"""

import argparse
import json
import os

import numpy as np

from experiments.celeba_attributes import directions
from jinvnet import train
from jinvnet.train import config_cli, evaluation, plots

CONFIGS_DIR = os.path.join(os.path.dirname(__file__), "configs")


def run(config, workdir: str) -> dict:
    """Trains, encodes, computes directions and saves the edit grid; a summary."""
    dataset = train.loop.load_dataset(config)
    summary = train.train_and_evaluate(config, workdir, dataset=dataset, progress=False)
    model, variables, _ = evaluation.restore_variables(config, workdir, dataset)
    settings = config.attributes
    columns = [dataset.attribute_names.index(name) for name in settings.names]
    count = min(settings.num_encode, len(dataset.train))
    batch = dataset.train.get(np.arange(count))
    latents = directions.encode(
        model, variables, batch["image"], dataset.num_bins, settings.encode_batch_size
    )
    found = directions.attribute_directions(latents, batch["attributes"][:, columns])
    test_images = dataset.test.get(np.arange(settings.num_images))["image"]
    test_latents = directions.encode(
        model, variables, test_images, dataset.num_bins, settings.encode_batch_size
    )
    rows = [
        directions.edit(model, variables, test_latents[i : i + 1], d, settings.scales)
        for i in range(len(test_latents))
        for d in found
    ]
    path = os.path.join(workdir, "edits.png")
    plots.save_image_grid(
        np.concatenate(rows),
        path,
        columns=len(settings.scales),
        title="rows: image x ("
        + ", ".join(settings.names)
        + "); columns: "
        + ", ".join(f"{s:+g}" for s in settings.scales),
    )
    report = {
        "test": summary["test"],
        "edits_png": path,
        "attributes": {
            name: {
                "positives": int(batch["attributes"][:, k].sum()),
                "direction_norm": float(np.linalg.norm(d)),
            }
            for name, k, d in zip(settings.names, columns, found)
        },
        "num_encoded": count,
    }
    with open(os.path.join(workdir, "directions.json"), "w") as f:
        json.dump(report, f, indent=2)
    return report


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(
        description=__doc__.splitlines()[0],
        epilog="--config=NAME (a file in configs/; default 'default') then "
        "--config.<field>=<value> overrides",
        allow_abbrev=False,
    )
    parser.add_argument("--workdir", required=True)
    parser.add_argument("--data_dir", default=None, help="prepared TFDS data_dir")
    args, config_args = parser.parse_known_args(argv)
    config = config_cli.config_or_exit(
        config_args, default="default", configs_dir=CONFIGS_DIR
    )
    if args.data_dir:
        config.data.data_dir = args.data_dir
    report = run(config, args.workdir)
    print(json.dumps(report, indent=2))
    return report


if __name__ == "__main__":
    main()
