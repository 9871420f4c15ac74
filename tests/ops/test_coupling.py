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


def _numpy_same_conv(x, w):
    """'SAME' cross-correlation, NHWC input, HWIO kernel, in float64 numpy."""
    kh, kw = w.shape[:2]
    ph, pw = (kh - 1) // 2, (kw - 1) // 2
    padded = np.pad(x, ((0, 0), (ph, kh - 1 - ph), (pw, kw - 1 - pw), (0, 0)))
    height, width = x.shape[1:3]
    return sum(
        padded[:, i : i + height, j : j + width, :] @ w[i, j]
        for i in range(kh)
        for j in range(kw)
    )


def test_conv_net_matches_numpy_and_its_gradient_matches_a_lax_conv_reference():
    """The 1x1 layer is a matmul: same values and gradients as a lax convolution."""
    params = perturb(
        conv_net.init(jax.random.PRNGKey(0), 3, 4, hidden_channels=6),
        jax.random.PRNGKey(1),
        0.5,
    )
    x = jax.random.normal(jax.random.PRNGKey(2), (2, 5, 4, 3))
    p = [np.asarray(leaf, np.float64) for leaf in params]
    h = np.maximum(_numpy_same_conv(np.asarray(x, np.float64), p[0]) + p[1], 0)
    h = np.maximum(_numpy_same_conv(h, p[2]) + p[3], 0)
    expected = _numpy_same_conv(h, p[4]) + p[5]
    ours = conv_net.apply(params, x)
    np.testing.assert_allclose(ours, expected, rtol=1e-5, atol=1e-5)

    def lax_net(params, x):
        h = x
        for i, (w, b) in enumerate(zip(params[::2], params[1::2])):
            h = jax.lax.conv_general_dilated(
                h, w, (1, 1), "SAME", dimension_numbers=("NHWC", "HWIO", "NHWC")
            )
            h = h + b if i == 2 else jax.nn.relu(h + b)
        return h

    def loss(net):
        return lambda params, x: jnp.sum(jnp.sin(net(params, x)))

    ours = jax.grad(loss(conv_net.apply), argnums=(0, 1))(params, x)
    reference = jax.grad(loss(lax_net), argnums=(0, 1))(params, x)
    leaves = zip(jax.tree_util.tree_leaves(ours), jax.tree_util.tree_leaves(reference))
    for a, b in leaves:
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-5 * float(np.abs(b).max()))


def test_conv_net_hidden_inits_have_their_closed_form_spread():
    """he_normal: N(0, 2 / fan_in) weights, zero biases; uniform (PyTorch's conv
    default): weights and biases U(-b, b), b = 1 / sqrt(fan_in), so std b / sqrt(3).
    The output layer is zero either way."""
    c_in, hidden = 6, 256
    fan_in = (9 * c_in, hidden)
    he = conv_net.init(jax.random.PRNGKey(0), c_in, 4, hidden_channels=hidden)
    for w, n in ((he.w1, fan_in[0]), (he.w2, fan_in[1])):
        np.testing.assert_allclose(np.std(w), np.sqrt(2.0 / n), rtol=0.05)
    assert not np.any(he.b1) and not np.any(he.b2)
    uni = conv_net.init(
        jax.random.PRNGKey(0), c_in, 4, hidden_channels=hidden, hidden_init="uniform"
    )
    for w, b, n in ((uni.w1, uni.b1, fan_in[0]), (uni.w2, uni.b2, fan_in[1])):
        bound = 1.0 / np.sqrt(n)
        assert np.max(np.abs(w)) <= bound and np.max(np.abs(b)) <= bound
        np.testing.assert_allclose(np.std(w), bound / np.sqrt(3.0), rtol=0.05)
        assert np.std(b) > 0.3 * bound  # random, not zero
    for params in (he, uni):
        assert not np.any(params.w3) and not np.any(params.b3)


def test_affine_with_uniform_hidden_init_starts_at_the_fixed_scale():
    """The output layer is zero, so t = 0 and s = sigmoid(2) whatever hidden_init."""
    params = affine_coupling.init(jax.random.PRNGKey(1), 4, hidden_init="uniform")
    x = jax.random.normal(jax.random.PRNGKey(2), (3, 5, 5, 4))
    y, log_det = affine_coupling.forward(params, x)
    s = 1.0 / (1.0 + np.exp(-2.0))
    np.testing.assert_allclose(y[..., :2], x[..., :2], rtol=0, atol=0)
    np.testing.assert_allclose(y[..., 2:], x[..., 2:] * s, rtol=1e-6)
    np.testing.assert_allclose(log_det, 5 * 5 * 2 * np.log(s), rtol=1e-5)


def test_unknown_hidden_init_raises():
    with pytest.raises(ValueError, match="hidden_init must be one of"):
        conv_net.init(jax.random.PRNGKey(0), 2, 4, hidden_init="xavier")
