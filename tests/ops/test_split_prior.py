"""Split prior: identity at init, closed form, equals the conditional Gaussian prior."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from jax.scipy import stats

from jinvnet.ops import conv_net, split_prior
from tests.conftest import roundoff
from tests.contract import perturb


def _params(channels=4, scale=0.3):
    params = split_prior.init(jax.random.PRNGKey(1), channels, hidden_channels=8)
    return perturb(params, jax.random.PRNGKey(2), scale)


def test_init_is_identity():
    x = jax.random.normal(jax.random.PRNGKey(0), (2, 4, 4, 6))
    params = split_prior.init(jax.random.PRNGKey(1), 6, hidden_channels=8)
    y, log_det = split_prior.forward(params, x)
    np.testing.assert_array_equal(y, x)
    np.testing.assert_array_equal(log_det, np.zeros(2))


def test_matches_closed_form():
    x = jax.random.normal(jax.random.PRNGKey(0), (2, 4, 4, 5))
    params = _params(5)
    y, log_det = split_prior.forward(params, x)
    h = np.asarray(conv_net.apply(params.net, x[..., :2]))
    mu, log_sigma = h[..., :3], h[..., 3:]
    np.testing.assert_array_equal(y[..., :2], x[..., :2])
    expected = (np.asarray(x[..., 2:]) - mu) * np.exp(-log_sigma)
    atol = roundoff(jnp.float32, expected)
    np.testing.assert_allclose(y[..., 2:], expected, rtol=0, atol=atol)
    np.testing.assert_allclose(log_det, -log_sigma.sum((1, 2, 3)), rtol=1e-5)


def test_standard_normal_on_output_is_the_conditional_prior():
    # log N(y2; 0, I) + log|det| == log N(z2; mu(z1), sigma(z1)^2): Glow's split.
    x = jax.random.normal(jax.random.PRNGKey(0), (3, 4, 4, 4))
    params = _params()
    y, log_det = split_prior.forward(params, x)
    mu, log_sigma = split_prior.mean_and_log_scale(params, x[..., :2])
    whitened = stats.norm.logpdf(y[..., 2:]).sum((1, 2, 3)) + log_det
    conditional = stats.norm.logpdf(x[..., 2:], mu, jnp.exp(log_sigma)).sum((1, 2, 3))
    np.testing.assert_allclose(whitened, conditional, rtol=1e-5)


def test_inverse_round_trip():
    x = jax.random.normal(jax.random.PRNGKey(0), (2, 4, 4, 4))
    params = _params()
    y, log_det = split_prior.forward(params, x)
    x_back, inverse_log_det = split_prior.inverse(params, y)
    np.testing.assert_allclose(x_back, x, rtol=0, atol=roundoff(jnp.float32, x))
    np.testing.assert_allclose(inverse_log_det, -log_det, rtol=1e-5)


def test_raises_if_single_channel():
    with pytest.raises(ValueError, match="at least 2 channels, got 1"):
        split_prior.init(jax.random.PRNGKey(0), 1)


def test_raises_if_channels_mismatch():
    params = split_prior.init(jax.random.PRNGKey(0), 4, hidden_channels=8)
    with pytest.raises(ValueError, match="got input of shape \\(1, 4, 4, 6\\)"):
        split_prior.forward(params, jnp.ones((1, 4, 4, 6)))
