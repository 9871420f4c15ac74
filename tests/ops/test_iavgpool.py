"""Tests for invertible average pooling iAvgPool2d (seed 000)."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from jinvnet.ops import iavgpool
from tests.conftest import roundoff


def test_first_channels_are_scaled_average_pooling(dtype):
    x = jax.random.normal(jax.random.PRNGKey(0), (2, 4, 6, 3), dtype)
    y, _ = iavgpool.forward(x)
    pooled = np.asarray(x).reshape(2, 2, 2, 3, 2, 3).mean(axis=(2, 4))
    # A sum of four x's: its round-off is relative to |x|, not to the (possibly
    # cancelled, e.g. 0.015) result, which an elementwise rtol would assume.
    atol = roundoff(dtype, x, ulps=8, f64=1e-12)
    np.testing.assert_allclose(y[..., :3], 2.0 * pooled, rtol=0, atol=atol)


def test_is_orthogonal(dtype):
    def flat_forward(v):
        return iavgpool.forward(v.reshape(4, 2, 2))[0].reshape(-1)

    jacobian = np.asarray(jax.jacfwd(flat_forward)(jnp.zeros((16,), dtype)))
    atol = roundoff(dtype, ulps=8, f64=1e-14)
    np.testing.assert_allclose(jacobian.T @ jacobian, np.eye(16), rtol=0, atol=atol)


def test_round_trip_and_zero_log_det(dtype):
    x = jax.random.normal(jax.random.PRNGKey(1), (3, 4, 2, 2), dtype)
    y, log_det = iavgpool.forward(x)
    assert y.shape == (3, 2, 1, 8) and y.dtype == dtype
    assert log_det.shape == (3,) and not log_det.any()
    x_back, inverse_log_det = iavgpool.inverse(y)
    atol = roundoff(dtype, x, ulps=8, f64=1e-14)
    np.testing.assert_allclose(x_back, x, rtol=0, atol=atol)
    assert not inverse_log_det.any()


def test_raises_if_odd_width():
    with pytest.raises(ValueError, match="width must be divisible by 2"):
        iavgpool.forward(jnp.ones((1, 4, 5, 2)))


def test_raises_if_inverse_channels_not_divisible_by_4():
    with pytest.raises(ValueError, match="divisible by 4"):
        iavgpool.inverse(jnp.ones((1, 2, 2, 3)))
