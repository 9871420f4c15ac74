"""Seeded, resumable, per-host sharded batches of dequantised images.

The global batch b of epoch e holds the examples permutation(seed, e)[b*B:(b+1)*B]
and its dequantisation noise is drawn from (seed, e, b), so a batch depends only on
(seed, epoch, batch index), never on how many hosts read it or on restarts: each
host takes its contiguous slice of B / process_count examples, and restoring the
`position` of an iterator continues the exact same stream.

Example (a doctest):

    >>> import numpy as np
    >>> from jinvnet.data import datasets
    >>> data = datasets.digits()
    >>> batches = BatchIterator(data.train, batch_size=32, num_bins=17, seed=0)
    >>> batch = next(batches)                     # dequantised to [-1/2, 1/2)
    >>> batch["image"].shape, bool(np.abs(batch["image"]).max() < 0.5)
    ((32, 8, 8, 1), True)
    >>> test = list(eval_batches(data.test, batch_size=100, num_bins=17))
    >>> len(test), test[0]["image"].shape         # 297 padded to 3 full batches
    (3, (100, 8, 8, 1))
    >>> train, test_images = (s.get(np.arange(len(s)))["image"]
    ...                       for s in (data.train, data.test))
    >>> bits = categorical_baseline_bits_per_dim(train, test_images, 17)
    >>> 0 < bits < float(np.log2(17))   # better than uniform over 17 levels
    True
"""

from typing import Iterator

import jax
import numpy as np

from jinvnet.data.datasets import Source
from jinvnet.data.dequantization import dequantize


def _host_slice(
    batch_size: int, process_index: int | None, process_count: int | None
) -> slice:
    index = jax.process_index() if process_index is None else process_index
    count = jax.process_count() if process_count is None else process_count
    if batch_size % count:
        raise ValueError(
            f"global batch_size {batch_size} must be divisible by the number of "
            f"hosts (processes) {count}"
        )
    per_host = batch_size // count
    return slice(index * per_host, (index + 1) * per_host)


def _prepare(
    examples: dict[str, np.ndarray],
    noise: np.ndarray | None,
    num_bins: int,
    pixels: bool,
) -> dict[str, np.ndarray]:
    batch = dict(examples)
    batch["image"] = dequantize(examples["image"], num_bins, noise)
    if pixels:
        batch["pixels"] = np.asarray(examples["image"], np.int32)
    return batch


class BatchIterator:
    """Endless shuffled training batches with an exact, saveable position.

    Each `next()` returns this host's share of one global batch: "image" float32
    (B / hosts, h, w, c) in [-1/2, 1/2), plus "label"/"attributes" if the source
    has them, and "pixels" (the integer pixels k, int32) if asked for. An epoch is
    floor(len(source) / B) full batches (the remainder is dropped); every epoch has
    its own permutation.

    Args:
      source: the split to read.
      batch_size: the global batch size B over all hosts.
      num_bins: pixel levels, for the scaling.
      seed: shuffling and dequantisation seed.
      shuffle: permute each epoch (default True).
      noise: uniform dequantisation (default True); False uses bin centres.
      pixels: also return the integer pixels as "pixels" (default False), for a
        variational dequantiser (`models.VariationalDequantization`).
      process_index: this host (default `jax.process_index()`).
      process_count: number of hosts (default `jax.process_count()`).

    Raises:
      ValueError: if B is not divisible by the number of hosts or exceeds the
        split's size.
    """

    def __init__(
        self,
        source: Source,
        *,
        batch_size: int,
        num_bins: int,
        seed: int,
        shuffle: bool = True,
        noise: bool = True,
        pixels: bool = False,
        process_index: int | None = None,
        process_count: int | None = None,
    ):
        if not 0 < batch_size <= len(source):
            raise ValueError(
                f"batch_size must be in 1..{len(source)} (the split's size), "
                f"got {batch_size}"
            )
        self._source = source
        self._batch_size = batch_size
        self._num_bins = num_bins
        self._seed = seed
        self._shuffle = shuffle
        self._noise = noise
        self._pixels = pixels
        self._slice = _host_slice(batch_size, process_index, process_count)
        self._batches_per_epoch = len(source) // batch_size
        self.epoch = 0
        self.index = 0
        self._order = None

    @property
    def position(self) -> dict[str, int]:
        """{"epoch": e, "index": b}: the next batch to be read (JSON-serialisable)."""
        return {"epoch": self.epoch, "index": self.index}

    def restore(self, position: dict[str, int]) -> None:
        """Continues from a `position` saved earlier."""
        self.epoch, self.index = int(position["epoch"]), int(position["index"])
        self._order = None

    def _epoch_order(self) -> np.ndarray:
        if self._order is None:
            if self._shuffle:
                rng = np.random.default_rng((self._seed, self.epoch))
                self._order = rng.permutation(len(self._source))
            else:
                self._order = np.arange(len(self._source))
        return self._order

    def __iter__(self) -> "BatchIterator":
        return self

    def __next__(self) -> dict[str, np.ndarray]:
        start = self.index * self._batch_size
        indices = self._epoch_order()[start : start + self._batch_size]
        examples = self._source.get(indices[self._slice])
        noise = None
        if self._noise:
            rng = np.random.default_rng((self._seed, self.epoch, self.index))
            shape = (self._batch_size, *examples["image"].shape[1:])
            noise = rng.uniform(size=shape).astype(np.float32)[self._slice]
        batch = _prepare(examples, noise, self._num_bins, self._pixels)
        self.index += 1
        if self.index == self._batches_per_epoch:
            self.epoch, self.index, self._order = self.epoch + 1, 0, None
        return batch


def eval_batches(
    source: Source,
    *,
    batch_size: int,
    num_bins: int,
    seed: int = 0,
    pixels: bool = False,
    process_index: int | None = None,
    process_count: int | None = None,
) -> Iterator[dict[str, np.ndarray]]:
    """One pass over `source` in order, with fixed noise, padded to full batches.

    Every batch has this host's share of `batch_size` examples and a "mask"
    (1.0 for real examples, 0.0 for the padding of the last batch), so metrics are
    exact sums weighted by the mask; with `pixels`, also the integer pixels as
    "pixels" (int32), as `BatchIterator`.
    """
    host = _host_slice(batch_size, process_index, process_count)
    total = len(source)
    for start in range(0, total, batch_size):
        indices = np.arange(start, start + batch_size)
        mask = (indices < total).astype(np.float32)
        indices = np.minimum(indices, total - 1)
        examples = source.get(indices[host])
        rng = np.random.default_rng((seed, start))
        noise = rng.uniform(size=(batch_size, *examples["image"].shape[1:]))
        batch = _prepare(examples, noise.astype(np.float32)[host], num_bins, pixels)
        batch["mask"] = mask[host]
        yield batch


def categorical_baseline_bits_per_dim(
    train: np.ndarray, test: np.ndarray, num_bins: int
) -> float:
    """Test bits/dim of independent per-pixel categoricals fitted on `train`.

    Each pixel (and channel) gets its own distribution over the `num_bins` levels,
    estimated from the training counts with add-one (Laplace) smoothing.

    Args:
      train: integer images (n, h, w, c) in [0, num_bins).
      test: integer images (m, h, w, c).
      num_bins: number of levels.

    Returns:
      mean -log2 P(test pixel) over all test pixels.
    """
    num_dims = int(np.prod(train.shape[1:]))
    offsets = np.arange(num_dims) * num_bins
    train_flat = np.clip(train.reshape(len(train), num_dims), 0, num_bins - 1)
    counts = (
        np.bincount(
            (train_flat + offsets).ravel(), minlength=num_dims * num_bins
        ).reshape(num_dims, num_bins)
        + 1.0
    )
    probs = counts / counts.sum(1, keepdims=True)
    test_flat = np.clip(test.reshape(len(test), num_dims), 0, num_bins - 1)
    return float(-np.log2(probs[np.arange(num_dims), test_flat]).mean())
