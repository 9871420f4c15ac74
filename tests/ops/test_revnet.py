"""RevNet and i-RevNet block ops against written-out references (seed 004)."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from jinvnet.ops import conv_net, irevnet, revnet, squeeze
from tests.conftest import roundoff, tolerance
from tests.contract import perturb


def _params(coupling, dtype, channels=4):
    k1, k2 = jax.random.split(jax.random.PRNGKey(0))
    params = revnet.init(
        k1, channels, coupling=coupling, hidden_channels=8, dtype=dtype
    )
    return perturb(params, k2, 0.2)


def _x(dtype, shape=(2, 4, 4, 4)):
    return jax.random.normal(jax.random.PRNGKey(1), shape, dtype)


def test_additive_matches_equations(dtype):
    params, x = _params("additive", dtype), _x(dtype)
    x1, x2 = x[..., :2], x[..., 2:]
    y1 = x1 + conv_net.apply(params.f.net, x2)
    y2 = x2 + conv_net.apply(params.g.net, y1)
    y, log_det = revnet.forward(params, x)
    expected = jnp.concatenate([y1, y2], -1)
    atol = roundoff(dtype, expected, ulps=8, f64=1e-12)
    np.testing.assert_allclose(y, expected, rtol=0, atol=atol)
    np.testing.assert_array_equal(log_det, np.zeros(2))


def test_affine_matches_equations(dtype):
    params, x = _params("affine", dtype), _x(dtype)
    x1, x2 = x[..., :2], x[..., 2:]

    def shift_scale(net, v):
        h = conv_net.apply(net, v)
        return h[..., :2], jax.nn.sigmoid(h[..., 2:] + 2.0)

    t_f, s_f = shift_scale(params.f.net, x2)
    y1 = (x1 + t_f) * s_f
    t_g, s_g = shift_scale(params.g.net, y1)
    y2 = (x2 + t_g) * s_g
    expected_log_det = jnp.sum(jnp.log(s_f), (1, 2, 3)) + jnp.sum(
        jnp.log(s_g), (1, 2, 3)
    )
    y, log_det = revnet.forward(params, x, coupling="affine")
    expected = jnp.concatenate([y1, y2], -1)
    atol = roundoff(dtype, expected, f64=1e-12)
    np.testing.assert_allclose(y, expected, rtol=0, atol=atol)
    rtol = tolerance(dtype, 1e-5, 1e-12)
    np.testing.assert_allclose(log_det, expected_log_det, rtol=rtol)
    x_back, inverse_log_det = revnet.inverse(params, y, coupling="affine")
    # Two affine couplings undone: their scales (sigmoid, down to ~0.1) amplify.
    atol = roundoff(dtype, x, ulps=256, f64=1e-11)
    np.testing.assert_allclose(x_back, x, rtol=0, atol=atol)
    np.testing.assert_allclose(inverse_log_det, -log_det, rtol=rtol)


def test_additive_block_is_identity_at_init():
    params = revnet.init(jax.random.PRNGKey(0), 4, hidden_channels=8)
    x = _x(jnp.float32)
    np.testing.assert_array_equal(revnet.forward(params, x)[0], x)


def test_raises_if_channels_odd():
    with pytest.raises(ValueError, match="divisible by 2"):
        revnet.init(jax.random.PRNGKey(0), 3)
    params = _params("additive", jnp.float32)
    with pytest.raises(ValueError, match="divisible by 2"):
        revnet.forward(params, jnp.ones((1, 4, 4, 5)))


def test_raises_if_coupling_unknown():
    with pytest.raises(ValueError, match="coupling must be one of"):
        revnet.init(jax.random.PRNGKey(0), 4, coupling="spline")
    with pytest.raises(ValueError, match="coupling must be one of"):
        revnet.block("spline")


def test_raises_if_channels_mismatch_params():
    params = _params("additive", jnp.float32)
    with pytest.raises(ValueError, match="channels"):
        revnet.forward(params, jnp.ones((1, 4, 4, 6)))


@pytest.mark.parametrize("downsample", [False, True])
def test_irevnet_matches_equations(downsample, dtype):
    k1, k2 = jax.random.split(jax.random.PRNGKey(0))
    params = perturb(
        irevnet.init(k1, 4, downsample=downsample, hidden_channels=8, dtype=dtype),
        k2,
        0.2,
    )
    x = _x(dtype)
    x1, x2 = x[..., :2], x[..., 2:]
    if downsample:
        x1, x2 = squeeze.forward(x1)[0], squeeze.forward(x2)[0]
    expected = jnp.concatenate([x2, x1 + conv_net.apply(params.net, x2)], -1)
    y, log_det = irevnet.forward(params, x, downsample=downsample)
    assert y.shape == ((2, 2, 2, 16) if downsample else x.shape)
    atol = roundoff(dtype, expected, ulps=8, f64=1e-12)
    np.testing.assert_allclose(y, expected, rtol=0, atol=atol)
    np.testing.assert_array_equal(log_det, np.zeros(2))
    x_back, _ = irevnet.inverse(params, y, downsample=downsample)
    atol = roundoff(dtype, x, f64=1e-11)
    np.testing.assert_allclose(x_back, x, rtol=0, atol=atol)


def test_irevnet_raises_if_height_odd():
    params = irevnet.init(jax.random.PRNGKey(0), 4, downsample=True, hidden_channels=8)
    with pytest.raises(ValueError, match="height must be divisible by 2"):
        irevnet.forward(params, jnp.ones((1, 3, 4, 4)), downsample=True)


def test_irevnet_raises_if_channels_odd():
    with pytest.raises(ValueError, match="divisible by 2"):
        irevnet.init(jax.random.PRNGKey(0), 3)
