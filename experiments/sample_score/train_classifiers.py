"""Rebuilds the digit classifiers that score samples (`jinvnet.train.sample_score`).

Trains one `DigitClassifier` per embedded dataset on its training split (1/8 held out
to fit the softmax temperature), reports its accuracy and confident share on the test
split next to the majority-class baseline, and writes it where `sample_score.packaged`
finds it (or to --output_dir).

    python -m experiments.sample_score.train_classifiers
    python -m experiments.sample_score.train_classifiers --datasets digits \
        --num_steps 20 --output_dir /tmp/classifiers
"""

import argparse
import json
import os
import time

import jax
import numpy as np

from jinvnet import data
from jinvnet.train import sample_score


def build(name: str, num_steps: int, output_dir: str | None) -> dict:
    """Trains, evaluates and saves the classifier of dataset `name`; returns its row."""
    dataset = data.load(name)
    train = dataset.train.get(np.arange(len(dataset.train)))
    test = dataset.test.get(np.arange(len(dataset.test)))
    start = time.perf_counter()
    classifier = sample_score.train_classifier(
        train["image"],
        train["label"],
        dataset.num_bins,
        key=jax.random.PRNGKey(0),
        num_steps=num_steps,
    )
    seconds = time.perf_counter() - start
    probabilities = classifier.pixel_probabilities(test["image"])
    test_score = sample_score.score(probabilities)
    path = (
        os.path.join(output_dir, f"{name}.npz")
        if output_dir
        else sample_score.packaged_path(name)
    )
    os.makedirs(os.path.dirname(path), exist_ok=True)
    sample_score.save(classifier, path)
    majority = np.bincount(test["label"]).max() / len(test["label"])
    return {
        "dataset": name,
        "train_images": len(train["image"]),
        "num_steps": num_steps,
        "train_s": round(seconds, 1),
        "temperature": round(classifier.temperature, 3),
        "held_out_accuracy": round(classifier.calibration_accuracy, 4),
        "test_accuracy": round(
            float(np.mean(probabilities.argmax(1) == test["label"])), 4
        ),
        "majority_class_accuracy": round(float(majority), 4),
        "test_confident_share": round(test_score.confident_share, 4),
        "test_labels_present": test_score.labels_present,
        "path": path,
    }


def main(argv: list[str] | None = None) -> list[dict]:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--datasets", default="digits,mnist5k")
    parser.add_argument("--num_steps", type=int, default=2000)
    parser.add_argument("--output_dir", default=None, help="default: the package")
    args = parser.parse_args(argv)
    rows = [
        build(name, args.num_steps, args.output_dir)
        for name in args.datasets.split(",")
    ]
    for row in rows:
        print(json.dumps(row))
    return rows


if __name__ == "__main__":
    main()
