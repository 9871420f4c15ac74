"""Batching: seeded shuffling, exact positions, per-host sharding, evaluation masks."""

import numpy as np
import pytest

from jinvnet import data


def _source(n=20):
    images = np.arange(n * 4).reshape(n, 2, 2, 1) % 17
    return data.ArraySource(images, np.arange(n))


def _iterator(source, **kwargs):
    return data.BatchIterator(
        source, batch_size=kwargs.pop("batch_size", 4), num_bins=17, seed=3, **kwargs
    )


def test_epoch_is_a_permutation_and_differs_between_epochs():
    iterator = _iterator(_source())
    first = np.concatenate([next(iterator)["label"] for _ in range(5)])
    second = np.concatenate([next(iterator)["label"] for _ in range(5)])
    assert sorted(first) == list(range(20)) and sorted(second) == list(range(20))
    assert not np.array_equal(first, second)
    assert iterator.position == {"epoch": 2, "index": 0}


def test_restored_position_continues_the_same_stream():
    straight = _iterator(_source(22))
    expected = [next(straight) for _ in range(9)]
    interrupted = _iterator(_source(22))
    for _ in range(6):
        next(interrupted)
    resumed = _iterator(_source(22))
    resumed.restore(interrupted.position)
    for want in expected[6:]:
        got = next(resumed)
        np.testing.assert_array_equal(got["image"], want["image"])
        np.testing.assert_array_equal(got["label"], want["label"])


def test_hosts_split_the_global_batch_exactly():
    whole = next(_iterator(_source()))
    parts = [
        next(_iterator(_source(), process_index=i, process_count=2)) for i in range(2)
    ]
    for key in ("image", "label"):
        np.testing.assert_array_equal(
            np.concatenate([p[key] for p in parts]), whole[key]
        )


def test_dequantised_batches_are_in_their_bins():
    source = _source()
    batch = next(_iterator(source, shuffle=False))
    assert batch["image"].dtype == np.float32
    bins = np.floor((batch["image"] + 0.5) * 17)
    np.testing.assert_array_equal(bins, source.images[:4])


def test_pixels_are_carried_only_when_asked_for():
    source = _source()
    assert "pixels" not in next(_iterator(source, shuffle=False))
    batch = next(_iterator(source, shuffle=False, pixels=True))
    assert batch["pixels"].dtype == np.int32
    np.testing.assert_array_equal(batch["pixels"], source.images[:4])
    np.testing.assert_array_equal(
        np.floor((batch["image"] + 0.5) * 17), batch["pixels"]
    )
    evaluation = next(data.eval_batches(source, batch_size=4, num_bins=17, pixels=True))
    np.testing.assert_array_equal(evaluation["pixels"], source.images[:4])
    assert "pixels" not in next(data.eval_batches(source, batch_size=4, num_bins=17))


def test_eval_batches_cover_each_example_once_with_mask():
    source = _source(10)
    batches = list(data.eval_batches(source, batch_size=4, num_bins=17))
    assert len(batches) == 3
    mask = np.concatenate([b["mask"] for b in batches])
    labels = np.concatenate([b["label"] for b in batches])
    np.testing.assert_array_equal(mask, [1] * 10 + [0] * 2)
    np.testing.assert_array_equal(labels[mask == 1], np.arange(10))


def test_categorical_baseline_matches_direct_count():
    rng = np.random.default_rng(0)
    train = rng.integers(0, 3, (50, 2, 2, 1))
    test = rng.integers(0, 3, (7, 2, 2, 1))
    expected = []
    for pixel in np.ndindex(2, 2, 1):
        counts = np.array(
            [(train[(slice(None), *pixel)] == v).sum() + 1 for v in range(3)]
        )
        expected.extend(-np.log2(counts[test[(slice(None), *pixel)]] / counts.sum()))
    got = data.categorical_baseline_bits_per_dim(train, test, 3)
    np.testing.assert_allclose(got, np.mean(expected), rtol=1e-12)


def test_raises_if_batch_not_divisible_by_hosts():
    with pytest.raises(ValueError, match="divisible by the number of hosts"):
        _iterator(_source(), batch_size=5, process_index=0, process_count=2)


def test_raises_if_batch_larger_than_split():
    with pytest.raises(ValueError, match="batch_size must be in 1..20"):
        _iterator(_source(), batch_size=21)
