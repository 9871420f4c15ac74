"""TFDS datasets under `tfds.testing.mock_data`, the missing-dataset error, digits."""

import numpy as np
import pytest
import tensorflow_datasets as tfds

from jinvnet import data


def _mock(num_examples=6):
    return tfds.testing.mock_data(
        num_examples=num_examples, policy=tfds.testing.MockPolicy.USE_CODE
    )


@pytest.mark.parametrize(
    "name, shape, key",
    [
        ("mnist", (28, 28, 1), "label"),
        ("cifar10", (32, 32, 3), "label"),
        ("imagenet32", (32, 32, 3), None),
        ("imagenet64", (64, 64, 3), None),
        ("celeb_a", (64, 64, 3), "attributes"),
    ],
)
def test_tfds_dataset_serves_integer_images(name, shape, key, tmp_path):
    with _mock():
        dataset = data.load(name, data_dir=str(tmp_path))
        batch = dataset.train.get(np.arange(3))
    assert dataset.image_shape == shape
    assert batch["image"].shape == (3, *shape)
    assert batch["image"].dtype == np.int32
    assert 0 <= batch["image"].min() and batch["image"].max() < 256
    if key == "label":
        assert batch["label"].shape == (3,) and dataset.num_classes == 10
    if key == "attributes":
        assert batch["attributes"].shape == (3, 40)
        assert len(dataset.attribute_names) == 40


def test_num_bits_reduces_levels(tmp_path):
    with _mock():
        dataset = data.load("cifar10", data_dir=str(tmp_path), num_bits=5)
        images = dataset.train.get(np.arange(4))["image"]
    assert dataset.num_bins == 32
    assert images.max() < 32


def test_missing_dataset_names_dataset_directory_and_fix(tmp_path):
    with pytest.raises(data.DatasetNotFoundError) as info:
        data.load("cifar10", data_dir=str(tmp_path))
    message = str(info.value)
    assert "'cifar10'" in message
    assert str(tmp_path) in message
    assert f"tfds build cifar10 --data_dir {tmp_path}" in message
    assert not any(tmp_path.iterdir()), "nothing must be downloaded or created"


def test_raises_if_unknown_dataset():
    with pytest.raises(ValueError, match="unknown dataset 'svhn'"):
        data.load("svhn")


def test_raises_if_num_bits_out_of_range(tmp_path):
    with pytest.raises(ValueError, match="num_bits must be in 1..8"):
        data.load("mnist", data_dir=str(tmp_path), num_bits=9)


def test_digits_fixed_split():
    dataset = data.load("digits")
    assert (len(dataset.train), len(dataset.test)) == (1500, 297)
    assert dataset.image_shape == (8, 8, 1) and dataset.num_bins == 17
    batch = dataset.test.get(np.arange(len(dataset.test)))
    assert batch["image"].min() == 0 and batch["image"].max() == 16
    again = data.digits().test.get(np.arange(5))
    np.testing.assert_array_equal(batch["image"][:5], again["image"])
