"""Additive and affine coupling: identity at init, closed-form log-det, bad input."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from jinvnet.ops import additive_coupling, affine_coupling, conv_net
from tests.contract import perturb


def test_additive_init_is_identity():
    x = jax.random.normal(jax.random.PRNGKey(0), (2, 4, 4, 4))
    params = additive_coupling.init(jax.random.PRNGKey(1), 4, hidden_channels=8)
    y, log_det = additive_coupling.forward(params, x)
    np.testing.assert_array_equal(y, x)
    np.testing.assert_array_equal(log_det, np.zeros(2))


def test_affine_log_det_is_sum_of_log_scales():
    x = jax.random.normal(jax.random.PRNGKey(0), (2, 4, 4, 5))
    params = perturb(
        affine_coupling.init(jax.random.PRNGKey(1), 5, hidden_channels=8),
        jax.random.PRNGKey(2),
        0.3,
    )
    y, log_det = affine_coupling.forward(params, x)
    h = conv_net.apply(params.net, x[..., :2])
    shift, raw = h[..., :3], h[..., 3:]
    scale = 1.0 / (1.0 + np.exp(-(np.asarray(raw) + 2.0)))
    np.testing.assert_allclose(y[..., :2], x[..., :2])
    np.testing.assert_allclose(y[..., 2:], (x[..., 2:] + shift) * scale, rtol=1e-5)
    np.testing.assert_allclose(log_det, np.log(scale).sum((1, 2, 3)), rtol=1e-5)


def test_raises_if_single_channel():
    with pytest.raises(ValueError, match="at least 2 channels, got 1"):
        affine_coupling.init(jax.random.PRNGKey(0), 1)


def test_raises_if_channels_mismatch():
    params = affine_coupling.init(jax.random.PRNGKey(0), 4, hidden_channels=8)
    with pytest.raises(ValueError, match="got input of shape \\(1, 4, 4, 6\\)"):
        affine_coupling.forward(params, jnp.ones((1, 4, 4, 6)))


@pytest.mark.parametrize("min_scale", [0.0, 0.1, 0.5])
def test_affine_min_scale_matches_numpy_and_bounds_the_inverse(min_scale):
    """s = m + (1 - m) sigmoid(h + 2) (numpy); m > 0 keeps the inverse finite."""
    params = affine_coupling.init(jax.random.PRNGKey(0), 4, hidden_channels=8)
    params = perturb(params, jax.random.PRNGKey(1), 3.0)  # scales far below 1
    x = jax.random.normal(jax.random.PRNGKey(2), (3, 4, 4, 4))
    y, log_det = affine_coupling.forward(params, x, min_scale=min_scale)
    h = np.asarray(conv_net.apply(params.net, x[..., :2]), np.float64)
    t, raw = h[..., :2], h[..., 2:]
    s = min_scale + (1 - min_scale) / (1 + np.exp(-(raw + 2)))
    np.testing.assert_allclose(y[..., 2:], (x[..., 2:] + t) * s, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(log_det, np.log(s).sum(axis=(1, 2, 3)), rtol=1e-5)
    x_back, inverse_log_det = affine_coupling.inverse(params, y, min_scale=min_scale)
    if not min_scale:  # Glow's scale underflows here: the inverse explodes
        assert s.min() < 1e-30 and not np.all(np.isfinite(x_back))
        return
    np.testing.assert_allclose(x_back, x, rtol=1e-4, atol=1e-4 / min_scale)
    np.testing.assert_allclose(inverse_log_det, -log_det, rtol=1e-5)
    assert s.min() >= min_scale  # reached: the bound is active


@pytest.mark.parametrize("min_scale", [-0.1, 1.0])
def test_affine_min_scale_outside_range_raises(min_scale):
    params = affine_coupling.init(jax.random.PRNGKey(0), 4, hidden_channels=8)
    with pytest.raises(ValueError, match=r"min_scale must lie in \[0, 1\)"):
        affine_coupling.forward(params, jnp.zeros((1, 2, 2, 4)), min_scale=min_scale)
