"""Smoke test of experiments/celeba_attributes on TFDS mock CelebA."""

import numpy as np
import pytest
import tensorflow_datasets as tfds

from experiments.celeba_attributes import directions, main

pytestmark = pytest.mark.slow  # end to end; see docs/testing.md


def test_directions_are_conditional_mean_differences():
    rng = np.random.default_rng(0)
    latents = rng.normal(size=(50, 2, 2, 1))
    attributes = np.stack([rng.integers(0, 2, 50), np.ones(50, int)], axis=1)
    found = directions.attribute_directions(latents, attributes)
    on = attributes[:, 0] == 1
    expected = latents[on].mean(0) - latents[~on].mean(0)
    np.testing.assert_allclose(found[0], expected, atol=1e-10)
    np.testing.assert_array_equal(found[1], 0.0)  # constant attribute: no direction


def test_smoke_run_on_mock_celeba_writes_edit_grid(tmp_path):
    workdir = tmp_path / "run"
    with tfds.testing.mock_data(
        num_examples=16, policy=tfds.testing.MockPolicy.USE_CODE
    ):
        report = main.main(
            [
                "--config",
                "smoke",
                "--workdir",
                str(workdir),
                "--data_dir",
                str(tmp_path / "tfds"),
            ]
        )
    assert (workdir / "edits.png").exists() and (workdir / "directions.json").exists()
    assert set(report["attributes"]) == {"Smiling", "Eyeglasses", "Blond_Hair", "Young"}
    assert all(np.isfinite(a["direction_norm"]) for a in report["attributes"].values())
