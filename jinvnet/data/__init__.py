"""Datasets (TFDS from a local data_dir, embedded digits), batching and bits/dim."""

from jinvnet.data.datasets import (
    DATASETS,
    ArraySource,
    Dataset,
    DatasetNotFoundError,
    Source,
    TfdsSource,
    default_data_dir,
    digits,
    load,
    tfds_dataset,
)
from jinvnet.data.dequantization import (
    bits_per_dim,
    dequantize,
    quantize,
    variational_bits_per_dim,
)
from jinvnet.data.pipeline import (
    BatchIterator,
    categorical_baseline_bits_per_dim,
    eval_batches,
)

__all__ = [
    "DATASETS",
    "ArraySource",
    "BatchIterator",
    "Dataset",
    "DatasetNotFoundError",
    "Source",
    "TfdsSource",
    "bits_per_dim",
    "categorical_baseline_bits_per_dim",
    "default_data_dir",
    "dequantize",
    "digits",
    "eval_batches",
    "load",
    "quantize",
    "tfds_dataset",
    "variational_bits_per_dim",
]
