"""Dequantisation, scaling and the bits/dim accounting."""

import math

import jax.numpy as jnp
import numpy as np
import pytest

from jinvnet import data
from tests.conftest import roundoff


def test_uniform_density_gives_exactly_log2_bins():
    # The uniform density on [-1/2, 1/2)^D has log p = 0 everywhere: each of the
    # 256^D bins gets mass 256^-D, i.e. exactly 8 bits per dimension.
    log_prob = jnp.zeros((5,))
    np.testing.assert_array_equal(
        data.bits_per_dim(log_prob, num_dims=3072, num_bins=256), 8.0
    )
    np.testing.assert_allclose(
        data.bits_per_dim(log_prob, num_dims=64, num_bins=17), math.log2(17), rtol=1e-7
    )


def test_bits_per_dim_of_a_gaussian_matches_closed_form():
    # N(0, s^2 I) at x = 0: log p = -D/2 log(2 pi s^2).
    num_dims, scale = 10, 0.1
    log_prob = jnp.asarray(-num_dims / 2 * math.log(2 * math.pi * scale**2))
    expected = 0.5 * math.log2(2 * math.pi * scale**2) + 8
    np.testing.assert_allclose(
        data.bits_per_dim(log_prob, num_dims, 256), expected, rtol=1e-6
    )


def test_dequantize_stays_in_its_bin_and_quantize_inverts_it():
    rng = np.random.default_rng(0)
    images = rng.integers(0, 256, (4, 3, 3, 2))
    noise = rng.uniform(size=images.shape).astype(np.float32)
    x = data.dequantize(images, 256, noise)
    assert x.dtype == np.float32
    assert x.min() >= -0.5 and x.max() < 0.5
    np.testing.assert_array_equal(data.quantize(jnp.asarray(x), 256), images)
    centres = data.dequantize(images, 256, None)
    expected = (images + 0.5) / 256 - 0.5
    atol = roundoff(jnp.float32, expected, ulps=1, floor=0.0)  # one rounding
    np.testing.assert_allclose(centres, expected, rtol=0, atol=atol)


def test_raises_if_noise_shape_differs():
    with pytest.raises(ValueError, match="noise must have the images' shape"):
        data.dequantize(np.zeros((2, 2, 2, 1)), 256, np.zeros((2, 2, 2, 3)))


def test_raises_if_num_bins_too_small():
    with pytest.raises(ValueError, match="num_bins must be >= 2"):
        data.dequantize(np.zeros((1, 2, 2, 1)), 1, None)
