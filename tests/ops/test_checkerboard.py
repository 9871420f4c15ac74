"""Tests for checkerboard downsampling (seed 000)."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from jinvnet.ops import checkerboard, squeeze


def _reference(x):
    x = np.asarray(x)
    offsets = [(0, 0), (1, 1), (0, 1), (1, 0)]
    return np.concatenate([x[..., a::2, b::2, :] for a, b in offsets], axis=-1)


def test_matches_reference_and_round_trips_exactly(dtype):
    x = jax.random.normal(jax.random.PRNGKey(0), (2, 3, 4, 6, 3), dtype)
    y, log_det = checkerboard.forward(x)
    np.testing.assert_array_equal(y, _reference(x))
    assert y.dtype == dtype and log_det.shape == (2, 3) and not log_det.any()
    x_back, inverse_log_det = checkerboard.inverse(y)
    np.testing.assert_array_equal(x_back, x)
    assert inverse_log_det.shape == (2, 3) and not inverse_log_det.any()


def test_first_half_is_one_checkerboard_colour():
    rows, cols = np.indices((4, 4))
    colour = ((rows + cols) % 2).astype(np.float32).reshape(1, 4, 4, 1)
    y, _ = checkerboard.forward(jnp.asarray(colour))
    np.testing.assert_array_equal(y[..., :2], 0.0)
    np.testing.assert_array_equal(y[..., 2:], 1.0)


def test_differs_from_squeeze():
    x = jnp.arange(16.0).reshape(1, 4, 4, 1)
    assert not np.array_equal(checkerboard.forward(x)[0], squeeze.forward(x)[0])


def test_raises_if_odd_height():
    with pytest.raises(ValueError, match="height must be divisible by 2"):
        checkerboard.forward(jnp.ones((1, 3, 4, 2)))


def test_raises_if_inverse_channels_not_divisible_by_4():
    with pytest.raises(ValueError, match="divisible by 4"):
        checkerboard.inverse(jnp.ones((1, 2, 2, 6)))
