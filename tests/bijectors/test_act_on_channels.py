"""ActOnChannels: the inner bijector on the leading channels, the rest untouched."""

import distrax
import jax
import jax.numpy as jnp
import numpy as np
import pytest

from jinvnet import bijectors
from jinvnet.ops import actnorm, sneaky_relu
from tests.conftest import roundoff


def _inner():
    params = actnorm.Params(
        loc=jnp.array([0.5, -1.0]), log_scale=jnp.array([0.3, -0.2])
    )
    return bijectors.ActNorm(params)


def test_matches_inner_on_slice():
    x = jax.random.normal(jax.random.PRNGKey(0), (2, 3, 3, 5))
    bij = bijectors.ActOnChannels(_inner(), 2)
    y, log_det = bij.forward_and_log_det(x)
    y_inner, log_det_inner = _inner().forward_and_log_det(x[..., :2])
    np.testing.assert_array_equal(y[..., :2], y_inner)
    np.testing.assert_array_equal(y[..., 2:], x[..., 2:])
    np.testing.assert_array_equal(log_det, log_det_inner)
    x_back, inverse_log_det = bij.inverse_and_log_det(y)
    atol = roundoff(jnp.float32, x, ulps=16)
    np.testing.assert_allclose(x_back, x, rtol=0, atol=atol)
    np.testing.assert_allclose(inverse_log_det, -log_det, rtol=1e-6)


def test_constant_jacobian_follows_inner():
    assert bijectors.ActOnChannels(_inner(), 2).is_constant_jacobian
    nonlinear = bijectors.SneakyReLU(sneaky_relu.init(0.2))
    assert not bijectors.ActOnChannels(nonlinear, 2).is_constant_jacobian


def test_raises_if_too_few_channels():
    bij = bijectors.ActOnChannels(_inner(), 2)
    with pytest.raises(ValueError, match="first 2 channels.*1 channels"):
        bij.forward(jnp.ones((1, 3, 3, 1)))


def test_raises_if_inner_changes_shape():
    bij = bijectors.ActOnChannels(bijectors.Squeeze(), 2)
    with pytest.raises(ValueError, match="must preserve shapes"):
        bij.forward(jnp.ones((1, 4, 4, 3)))


def test_raises_if_inner_is_not_an_image_bijector():
    with pytest.raises(ValueError, match="must act on images"):
        bijectors.ActOnChannels(distrax.ScalarAffine(1.0), 2)


def test_raises_if_channels_not_positive():
    with pytest.raises(ValueError, match="channels must be a positive integer"):
        bijectors.ActOnChannels(_inner(), 0)
