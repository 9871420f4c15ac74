"""Tests for the quad coupling op (CInC Flow, seed 001 Sec. 3.2)."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from jinvnet.ops import conv_net, quad_coupling
from tests.conftest import roundoff, tolerance


def _params(key, channels=8, dtype=jnp.float32):
    k1, k2 = jax.random.split(key)
    params = quad_coupling.init(k1, channels, hidden_channels=8, dtype=dtype)
    leaves, treedef = jax.tree_util.tree_flatten(params)
    keys = jax.random.split(k2, len(leaves))
    noisy = [
        v + 0.2 * jax.random.normal(k, v.shape, dtype) for v, k in zip(leaves, keys)
    ]
    return jax.tree_util.tree_unflatten(treedef, noisy)


def test_matches_seed_equations(dtype):
    params = _params(jax.random.PRNGKey(0), dtype=dtype)
    x = jax.random.normal(jax.random.PRNGKey(1), (2, 4, 4, 8), dtype)
    y, log_det = quad_coupling.forward(params, x)
    blocks = [x[..., 2 * i : 2 * i + 2] for i in range(4)]
    expected, expected_log_det = [blocks[0]], 0.0
    for i in range(1, 4):
        h = conv_net.apply(params.nets[i - 1], jnp.concatenate(blocks[:i], -1))
        scale = jax.nn.sigmoid(h[..., 2:] + 2.0)
        expected.append((blocks[i] + h[..., :2]) * scale)
        expected_log_det += jnp.sum(jnp.log(scale), axis=(1, 2, 3))
    expected = jnp.concatenate(expected, -1)
    atol = roundoff(dtype, expected, f64=1e-12)
    np.testing.assert_allclose(y, expected, rtol=0, atol=atol)
    rtol = tolerance(dtype, 1e-5, 1e-12)
    np.testing.assert_allclose(log_det, expected_log_det, rtol=rtol, atol=rtol)
    x_back, inverse_log_det = quad_coupling.inverse(params, y)
    np.testing.assert_allclose(x_back, x, rtol=0, atol=roundoff(dtype, x))
    np.testing.assert_allclose(inverse_log_det, -log_det, rtol=rtol, atol=rtol)


def test_jacobian_is_block_triangular_with_the_log_det():
    params = _params(jax.random.PRNGKey(2))
    x = jax.random.normal(jax.random.PRNGKey(3), (3, 3, 8))

    def flat(v):
        return quad_coupling.forward(params, v.reshape(3, 3, 8))[0].reshape(3, 3, 8)

    jacobian = np.asarray(jax.jacfwd(flat)(x), np.float64)  # (3, 3, 8, 3, 3, 8)
    by_block = jacobian.reshape(3, 3, 4, 2, 3, 3, 4, 2)
    for out_block in range(4):
        for in_block in range(out_block + 1, 4):
            np.testing.assert_array_equal(
                by_block[:, :, out_block, :, :, :, in_block], 0
            )
    _, expected = np.linalg.slogdet(jacobian.reshape(72, 72))
    _, log_det = quad_coupling.forward(params, x)
    np.testing.assert_allclose(log_det, expected, rtol=1e-4)


def test_initialisation_is_a_fixed_scale():
    params = quad_coupling.init(jax.random.PRNGKey(4), 4, hidden_channels=8)
    x = jax.random.normal(jax.random.PRNGKey(5), (2, 3, 3, 4))
    y, log_det = quad_coupling.forward(params, x)
    s = jax.nn.sigmoid(2.0)
    np.testing.assert_allclose(y[..., 0], x[..., 0], rtol=1e-6)
    atol = roundoff(jnp.float32, x, ulps=8)
    np.testing.assert_allclose(y[..., 1:], s * x[..., 1:], rtol=0, atol=atol)
    np.testing.assert_allclose(log_det, 27 * np.log(s), rtol=1e-5)


@pytest.mark.parametrize("channels", [2, 6, 10])
def test_raises_if_channels_not_divisible_by_4(channels):
    with pytest.raises(ValueError, match="multiple of 4"):
        quad_coupling.init(jax.random.PRNGKey(6), channels)
    params = _params(jax.random.PRNGKey(6))
    with pytest.raises(ValueError, match="multiple of 4"):
        quad_coupling.forward(params, jnp.ones((1, 4, 4, channels)))


def test_raises_if_channel_mismatch():
    params = _params(jax.random.PRNGKey(7))
    with pytest.raises(ValueError, match="built for 8 channels"):
        quad_coupling.inverse(params, jnp.ones((1, 4, 4, 12)))
