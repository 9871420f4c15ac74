"""Tests for the emerging convolution op (Hoogeboom et al. 2019)."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from jinvnet.ops import conv1x1_lu, emerging
from tests.conftest import LINEAR_ULPS, residual_and_error, roundoff, tolerance


def _params(key, channels, *, kernel_size=3, scale=0.2, dtype=jnp.float32):
    """Trained-like parameters: masked taps N(0, scale^2), perturbed 1x1."""
    k1, k2 = jax.random.split(key)
    params = emerging.init(
        k1, channels, kernel_size=kernel_size, init_scale=scale, dtype=dtype
    )
    log_scale = 0.3 * jax.random.normal(k2, (channels,), dtype)
    return params._replace(conv1x1=params.conv1x1._replace(log_scale=log_scale))


def _numpy_forward(params, x):
    """Independent reference: 1x1, then explicit loops over the two masked kernels."""
    x = np.asarray(x, np.float64)
    u = np.einsum("...i,oi->...o", x, np.asarray(conv1x1_lu.weight(params.conv1x1)))
    k = params.causal.shape[0]
    r = k // 2
    channels = x.shape[-1]
    m = emerging.mask(channels, k)
    eye = np.zeros_like(m)
    eye[r, r] = np.eye(channels)
    causal = np.asarray(params.causal, np.float64) * m + eye
    # The anti-causal kernel acting directly: mirror the taps and both channel axes.
    anti = (np.asarray(params.anticausal, np.float64) * m + eye)[::-1, ::-1, ::-1, ::-1]

    def same_conv(kernel, v):
        height, width = v.shape[-3:-1]
        padded = np.pad(v, [(0, 0)] * (v.ndim - 3) + [(r, r), (r, r), (0, 0)])
        out = np.zeros(v.shape)
        for a in range(k):
            for b in range(k):
                window = padded[..., a : a + height, b : b + width, :]
                out += np.einsum("...i,io->...o", window, kernel[a, b])
        return out

    return same_conv(anti, same_conv(causal, u))


@pytest.mark.parametrize("kernel_size", [3, 5])
def test_matches_dense_reference(kernel_size, dtype):
    params = _params(jax.random.PRNGKey(0), 3, kernel_size=kernel_size, dtype=dtype)
    x = jax.random.normal(jax.random.PRNGKey(1), (2, 5, 4, 3), dtype)
    y, log_det = emerging.forward(params, x)
    expected_y = _numpy_forward(params, x)
    atol = roundoff(dtype, expected_y, f64=1e-12)
    np.testing.assert_allclose(y, expected_y, rtol=0, atol=atol)
    rtol = tolerance(dtype, 1e-5, 1e-12)

    def flat(v):
        return emerging.forward(params, v.reshape(5, 4, 3))[0].reshape(-1)

    jacobian = np.asarray(jax.jacfwd(flat)(x[0].reshape(-1)), np.float64)
    _, expected = np.linalg.slogdet(jacobian)
    np.testing.assert_allclose(log_det, [expected] * 2, rtol=rtol, atol=rtol)
    condition = np.linalg.cond(jacobian)
    for method in emerging.METHODS:
        x_back, inverse_log_det = emerging.inverse(params, y, method=method)
        solved = np.linalg.solve(jacobian, np.asarray(y[0], np.float64).reshape(-1))
        atol = roundoff(dtype, solved, ulps=LINEAR_ULPS, condition=condition)
        np.testing.assert_allclose(x_back[0].reshape(-1), solved, rtol=0, atol=atol)
        atol = roundoff(dtype, x, ulps=LINEAR_ULPS, condition=condition)
        np.testing.assert_allclose(x_back, x, rtol=0, atol=atol)
        np.testing.assert_allclose(inverse_log_det, -log_det, rtol=rtol, atol=rtol)


@pytest.mark.parametrize("method", ["fast", "rows", "wavefront"])
def test_fast_matches_scan(method, dtype):
    # Taps N(0, 0.05^2) on 8 channels: larger taps make the two masked
    # convolutions' inverses explode (float32 errors of 5e-3 at 0.2).
    params = _params(jax.random.PRNGKey(2), 8, scale=0.05, dtype=dtype)
    x = jax.random.normal(jax.random.PRNGKey(3), (3, 8, 8, 8), dtype)
    y, _ = emerging.forward(params, x)
    report = emerging.solve(params, y, method=method)
    fast = report.x
    scan, _ = emerging.inverse(params, y, method="scan")
    atol = roundoff(dtype, scan)  # triangular solves and one 1x1: see test_cinc
    np.testing.assert_allclose(fast, scan, rtol=0, atol=atol)
    np.testing.assert_allclose(fast, x, rtol=0, atol=atol)
    residual, error = residual_and_error(emerging.forward, params, y, fast)
    assert error <= roundoff(dtype, y, f64=1e-11)
    np.testing.assert_allclose(report.residual, residual, rtol=1e-5, atol=0)
    assert bool(report.converged.all()) and int(report.iterations) == 0
    np.testing.assert_allclose(
        report.min_abs_diagonal, jnp.exp(params.conv1x1.log_scale).min(), rtol=1e-6
    )


@pytest.mark.parametrize("channels", [8, 48])
def test_default_init_scale_is_fan_in_scaled(channels):
    params = emerging.init(jax.random.PRNGKey(30), channels)
    free = emerging.mask(channels) == 1
    # 0.1 / sqrt(k^2 c) for both masked kernels (fan-in scaling).
    for kernel in (params.causal, params.anticausal):
        np.testing.assert_allclose(
            np.asarray(kernel)[free].std(), 0.1 / np.sqrt(9 * channels), rtol=0.1
        )


@pytest.mark.parametrize("channels", [1, 3, 4])
def test_parameter_count_matches_seed(channels):
    """2 (4n^2 + n(n-1)/2) + n^2 = 10n^2 - n free parameters for 3x3 (seed 003)."""
    params = _params(jax.random.PRNGKey(4), channels)
    x = jax.random.normal(jax.random.PRNGKey(5), (2, 4, 4, channels))
    probe = jax.random.normal(jax.random.PRNGKey(6), x.shape)

    def loss(learned):
        causal, anticausal, lower, upper, log_scale = learned
        conv = params.conv1x1._replace(lower=lower, upper=upper, log_scale=log_scale)
        p = emerging.Params(conv1x1=conv, causal=causal, anticausal=anticausal)
        return jnp.sum(emerging.forward(p, x)[0] * probe)

    c = params.conv1x1
    learned = (params.causal, params.anticausal, c.lower, c.upper, c.log_scale)
    grads = jax.grad(loss)(learned)
    free = sum(int(np.count_nonzero(g)) for g in grads)
    assert free == 10 * channels**2 - channels
    assert emerging.num_parameters(channels) == free


def test_batched_leading_dims():
    params = _params(jax.random.PRNGKey(7), 3)
    x = jax.random.normal(jax.random.PRNGKey(8), (2, 3, 4, 4, 3))
    y, log_det = emerging.forward(params, x)
    assert log_det.shape == (2, 3)
    np.testing.assert_allclose(
        emerging.inverse(params, y)[0], x, rtol=0, atol=roundoff(jnp.float32, x)
    )


def test_report_of_an_empty_batch():
    params = _params(jax.random.PRNGKey(9), 3)
    y = jnp.zeros((0, 4, 4, 3))
    report = emerging.solve(params, y)
    assert report.x.shape == y.shape
    assert report.residual.shape == report.converged.shape == (0,)


@pytest.mark.parametrize("kernel_size", [2, 4])
def test_raises_if_even_kernel_size(kernel_size):
    with pytest.raises(ValueError, match="kernel_size must be odd"):
        emerging.init(jax.random.PRNGKey(9), 3, kernel_size=kernel_size)
    params = _params(jax.random.PRNGKey(9), 3)
    bad = params._replace(causal=jnp.zeros((kernel_size, kernel_size, 3, 3)))
    with pytest.raises(ValueError, match="kernel_size must be odd"):
        emerging.forward(bad, jnp.ones((1, 4, 4, 3)))


def test_raises_if_wrong_channels():
    params = _params(jax.random.PRNGKey(10), 3)
    with pytest.raises(ValueError, match="channels 4 != 3"):
        emerging.inverse(params, jnp.ones((1, 4, 4, 4)))


def test_raises_if_unknown_method():
    params = _params(jax.random.PRNGKey(11), 3)
    with pytest.raises(ValueError, match="method must be one of"):
        emerging.inverse(params, jnp.ones((1, 4, 4, 3)), method="filter")
