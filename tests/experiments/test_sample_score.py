"""Smoke test: the script that rebuilds the packaged digit classifiers."""

import numpy as np

from experiments.sample_score import train_classifiers
from jinvnet import data
from jinvnet.train import sample_score


def test_smoke_run_writes_a_classifier_and_reports_its_test_accuracy(tmp_path):
    (row,) = train_classifiers.main(
        ["--datasets", "digits", "--num_steps", "20", "--output_dir", str(tmp_path)]
    )
    classifier = sample_score.load(str(tmp_path / "digits.npz"))
    test = data.load("digits").test
    batch = test.get(np.arange(len(test)))
    predicted = classifier.pixel_probabilities(batch["image"]).argmax(1)
    assert row["test_accuracy"] == round(float(np.mean(predicted == batch["label"])), 4)
    assert row["majority_class_accuracy"] == round(
        float(np.bincount(batch["label"]).max() / len(test)), 4
    )
    assert row["num_steps"] == 20 and row["path"] == str(tmp_path / "digits.npz")
