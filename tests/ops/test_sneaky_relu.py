"""SneakyReLU: the seed-000 formula, its closed-form inverse and derivative."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from jinvnet.ops import sneaky_relu
from tests.conftest import roundoff


def _reference(x, slope):
    alpha = (1 - slope) / (1 + slope)
    return (x + alpha * (np.sqrt(1 + x**2) - 1)) / (1 + alpha)


@pytest.mark.parametrize("slope", [0.05, 0.3, 1.0, 2.0])
def test_forward_matches_seed_formula_and_inverse(slope, dtype):
    x = np.linspace(-30, 30, 241).reshape(1, 1, 241, 1).astype(dtype)
    params = sneaky_relu.init(slope, dtype)
    y, log_det = sneaky_relu.forward(params, jnp.asarray(x))
    np.testing.assert_allclose(y, _reference(x.astype(np.float64), slope), rtol=1e-5)
    x_back, inverse_log_det = sneaky_relu.inverse(params, y)
    # |x| up to 30; the inverse's slope 1 / slope amplifies by up to 20.
    atol = roundoff(dtype, x, ulps=64, condition=max(slope, 1 / slope))
    np.testing.assert_allclose(x_back, x, rtol=0, atol=atol)
    np.testing.assert_allclose(inverse_log_det, -log_det, rtol=1e-4)


def test_asymptotic_slopes():
    params = sneaky_relu.init(0.2)
    grad = jax.grad(
        lambda v: sneaky_relu.forward(params, v.reshape(1, 1, 1, 1))[0].sum()
    )
    np.testing.assert_allclose(grad(jnp.array(-1e4)), 0.2, rtol=1e-3)
    np.testing.assert_allclose(grad(jnp.array(1e4)), 1.0, rtol=1e-3)


def test_slope_one_is_identity():
    x = jax.random.normal(jax.random.PRNGKey(0), (2, 3, 3, 2))
    y, log_det = sneaky_relu.forward(sneaky_relu.init(1.0), x)
    np.testing.assert_allclose(y, x, rtol=0, atol=roundoff(jnp.float32, x, ulps=2))
    np.testing.assert_allclose(log_det, 0.0, rtol=0, atol=roundoff(jnp.float32, ulps=8))


def test_raises_if_slope_not_positive():
    with pytest.raises(ValueError, match="slope must be positive, got 0.0"):
        sneaky_relu.init(0.0)


def test_finite_at_extreme_inputs():
    x = jnp.array([-1e6, -10.0, 10.0, 1e6]).reshape(1, 1, 4, 1)
    y, log_det = sneaky_relu.forward(sneaky_relu.init(0.1), x)
    assert np.all(np.isfinite(y)) and np.all(np.isfinite(log_det))
