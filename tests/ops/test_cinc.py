"""Tests for the CInC convolution op: references, solvers, diagnostics, errors."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from jinvnet.ops import cinc
from tests.conftest import LINEAR_ULPS, residual_and_error, roundoff, tolerance


def _params(key, channels, *, unit_diagonal=False, sigma=0.15, dtype=jnp.float32):
    """Trained-like parameters: taps N(0, sigma^2), log-normal diagonal."""
    k1, k2 = jax.random.split(key)
    params = cinc.init(
        k1, channels, unit_diagonal=unit_diagonal, init_scale=sigma, dtype=dtype
    )
    if not unit_diagonal:
        log_diag = 0.3 * jax.random.normal(k2, (channels,), dtype)
        params = params._replace(log_diag=log_diag)
    return params


def _numpy_forward(params, x):
    """Independent loop over HWIO taps: y[i, j] = sum K[a, b]^T x[i + a - k + 1]."""
    kernel = np.asarray(cinc.effective_kernel(params), np.float64)
    k = kernel.shape[0]
    x = np.asarray(x, np.float64)
    height, width = x.shape[-3:-1]
    padded = np.pad(x, [(0, 0)] * (x.ndim - 3) + [(k - 1, 0), (k - 1, 0), (0, 0)])
    y = np.zeros(x.shape)
    for a in range(k):
        for b in range(k):
            window = padded[..., a : a + height, b : b + width, :]
            y += np.einsum("...i,io->...o", window, kernel[a, b])
    return y


def _dense_jacobian(params, shape):
    def flat(v):
        return cinc.forward(params, v.reshape(shape))[0].reshape(-1)

    return np.asarray(jax.jacfwd(flat)(jnp.zeros(int(np.prod(shape)))), np.float64)


@pytest.mark.parametrize("unit_diagonal", [False, True])
def test_matches_dense_reference(unit_diagonal, dtype):
    params = _params(jax.random.PRNGKey(0), 3, unit_diagonal=unit_diagonal, dtype=dtype)
    x = jax.random.normal(jax.random.PRNGKey(1), (2, 5, 4, 3), dtype)
    y, log_det = cinc.forward(params, x)
    expected_y = _numpy_forward(params, x)
    atol = roundoff(dtype, expected_y, f64=1e-12)
    np.testing.assert_allclose(y, expected_y, rtol=0, atol=atol)
    rtol = tolerance(dtype, 1e-5, 1e-12)
    jacobian = _dense_jacobian(params, (5, 4, 3))
    # Triangular in raster order (row, column, channel), diagonal diag(A) per pixel.
    np.testing.assert_array_equal(np.triu(jacobian, 1), 0.0)
    diag = np.ones(3) if unit_diagonal else np.exp(np.asarray(params.log_diag))
    np.testing.assert_allclose(np.diag(jacobian), np.tile(diag, 20), rtol=rtol)
    _, expected = np.linalg.slogdet(jacobian)
    np.testing.assert_allclose(log_det, [expected] * 2, rtol=rtol, atol=rtol)
    if unit_diagonal:
        np.testing.assert_array_equal(log_det, 0.0)


@pytest.mark.parametrize("method", cinc.METHODS)
@pytest.mark.parametrize("unit_diagonal", [False, True])
def test_inverse_matches_dense_solve(method, unit_diagonal, dtype):
    params = _params(jax.random.PRNGKey(2), 3, unit_diagonal=unit_diagonal, dtype=dtype)
    y = jax.random.normal(jax.random.PRNGKey(3), (2, 4, 5, 3), dtype)
    x, log_det = cinc.inverse(params, y, method=method)
    jacobian = _dense_jacobian(params, (4, 5, 3))
    expected = np.linalg.solve(jacobian, np.asarray(y, np.float64).reshape(2, -1).T)
    atol = roundoff(
        dtype, expected, ulps=LINEAR_ULPS, condition=np.linalg.cond(jacobian)
    )
    np.testing.assert_allclose(
        np.asarray(x).reshape(2, -1), expected.T, rtol=0, atol=atol
    )
    rtol = tolerance(dtype, 1e-5, 1e-10)
    _, forward_log_det = cinc.forward(params, x)
    np.testing.assert_allclose(log_det, -forward_log_det, rtol=rtol, atol=rtol)


@pytest.mark.parametrize("method", ["fast", "rows", "wavefront", "filter"])
def test_fast_matches_scan_on_trained_like_kernels(method, dtype):
    # sigma = 0.1 on 12 channels: inverse gain ~1e2 to 1e3, like a trained layer.
    params = _params(jax.random.PRNGKey(4), 12, sigma=0.1, dtype=dtype)
    x = jax.random.normal(jax.random.PRNGKey(5), (3, 8, 8, 12), dtype)
    y, _ = cinc.forward(params, x)
    reference, _ = cinc.inverse(params, y, method="scan")
    report = cinc.solve(params, y, method=method)
    fast = report.x
    # Triangular solves lose far less than eps * gain (measured: under 8 ulps at
    # gain 79), so the allowance is the one-layer 64 ulps, not scaled by the gain.
    atol = roundoff(dtype, reference)
    np.testing.assert_allclose(fast, reference, rtol=0, atol=atol)
    np.testing.assert_allclose(reference, x, rtol=0, atol=atol)
    assert bool(report.used_filter) == (method == "filter")
    residual, error = residual_and_error(cinc.forward, params, y, fast)
    assert error <= roundoff(dtype, y, f64=1e-11)
    np.testing.assert_allclose(report.residual, residual, rtol=1e-5, atol=0)
    assert report.residual.shape == (3,) and bool(report.converged.all())
    assert int(report.iterations) == 0


def test_fast_is_rows_for_narrow_rows_and_wavefront_for_wide_ones():
    params = _params(jax.random.PRNGKey(20), 16, sigma=0.05)
    for width, expected in [(8, "rows"), (65, "wavefront")]:  # W c = 128, 1040
        y = jax.random.normal(jax.random.PRNGKey(21), (2, 3, width, 16))
        fast, _ = cinc.inverse(params, y, method="fast")
        chosen, _ = cinc.inverse(params, y, method=expected)
        np.testing.assert_array_equal(fast, chosen)


def test_rows_error_tracks_back_substitution_on_ill_conditioned_kernels():
    # sigma = 0.1, log|diag| ~ N(0, 0.3^2) on 12 channels, 16x16: inverse gain
    # ~4e3, so every exact solver loses ~1e-5 relative in float32; the row
    # solver's dense 1D row inverse must not lose more than back substitution.
    k1, k2, k3 = jax.random.split(jax.random.PRNGKey(1), 3)
    params = cinc.init(k1, 12, init_scale=0.1)._replace(
        log_diag=0.3 * jax.random.normal(k2, (12,))
    )
    _, gain = cinc.inverse_filter(params, 16, 16)
    assert 1e3 < float(gain) < 1e5
    x = jax.random.normal(k3, (20, 16, 16, 12))
    y, _ = cinc.forward(params, x)
    errors = {
        method: float(jnp.max(jnp.abs(cinc.inverse(params, y, method=method)[0] - x)))
        for method in ("scan", "rows")
    }
    assert errors["scan"] > 1e-6  # the conditioning shows
    assert errors["rows"] <= 3 * errors["scan"]


@pytest.mark.parametrize("kernel_size", [1, 2, 5])
def test_other_kernel_sizes_round_trip(kernel_size):
    params = cinc.init(
        jax.random.PRNGKey(6), 3, kernel_size=kernel_size, init_scale=0.1
    )
    x = jax.random.normal(jax.random.PRNGKey(7), (2, 6, 5, 3))
    y, _ = cinc.forward(params, x)
    expected = _numpy_forward(params, x)
    np.testing.assert_allclose(
        y, expected, rtol=0, atol=roundoff(jnp.float32, expected)
    )
    for method in cinc.METHODS:
        x_back, _ = cinc.inverse(params, y, method=method)
        np.testing.assert_allclose(x_back, x, rtol=0, atol=roundoff(jnp.float32, x))


def test_batched_leading_dims():
    params = _params(jax.random.PRNGKey(8), 3)
    x = jax.random.normal(jax.random.PRNGKey(9), (2, 3, 4, 4, 3))
    y, log_det = cinc.forward(params, x)
    assert y.shape == x.shape and log_det.shape == (2, 3)
    y_flat, _ = cinc.forward(params, x.reshape(6, 4, 4, 3))
    np.testing.assert_allclose(
        y.reshape(6, 4, 4, 3), y_flat, rtol=0, atol=roundoff(jnp.float32, y, ulps=8)
    )
    x_back, inverse_log_det = cinc.inverse(params, y)
    np.testing.assert_allclose(x_back, x, rtol=0, atol=roundoff(jnp.float32, x))
    assert inverse_log_det.shape == (2, 3)


def _probed_output(params, x, probe):
    return jnp.sum(cinc.forward(params, x)[0] * probe)


@pytest.mark.parametrize("channels", [1, 3, 5])
def test_parameter_count_matches_seed(channels):
    """9n^2 - n(n-1)/2 free parameters (seed 003), n fewer with a unit diagonal."""
    for unit_diagonal, expected in (
        (False, 9 * channels**2 - channels * (channels - 1) // 2),
        (True, 9 * channels**2 - channels * (channels + 1) // 2),
    ):
        params = _params(jax.random.PRNGKey(10), channels, unit_diagonal=unit_diagonal)
        x = jax.random.normal(jax.random.PRNGKey(11), (2, 4, 4, channels))
        probe = jax.random.normal(jax.random.PRNGKey(12), x.shape)
        grads = jax.grad(_probed_output)(params, x, probe)
        free = sum(int(np.count_nonzero(g)) for g in jax.tree_util.tree_leaves(grads))
        assert free == expected
        assert cinc.num_parameters(channels, unit_diagonal=unit_diagonal) == expected


@pytest.mark.parametrize("channels", [8, 48])
def test_default_init_scale_is_fan_in_scaled(channels):
    params = cinc.init(jax.random.PRNGKey(30), channels)
    taps = np.asarray(params.kernel)[cinc.mask(channels) == 1]
    # 0.1 / sqrt(k^2 c), independent of the _causal_conv helper's code.
    np.testing.assert_allclose(taps.std(), 0.1 / np.sqrt(9 * channels), rtol=0.1)
    explicit = cinc.init(jax.random.PRNGKey(30), channels, init_scale=0.01)
    np.testing.assert_allclose(
        np.asarray(explicit.kernel)[cinc.mask(channels) == 1].std(), 0.01, rtol=0.1
    )


def test_init_is_near_identity():
    params = cinc.init(jax.random.PRNGKey(13), 4)
    x = jax.random.normal(jax.random.PRNGKey(14), (2, 6, 6, 4))
    y, log_det = cinc.forward(params, x)
    # Fan-in scaled taps (std 0.1 / sqrt(9 c)) move each output by ~0.1 rms(x).
    ratio = float(jnp.sqrt(jnp.mean((y - x) ** 2) / jnp.mean(x**2)))
    assert 0.02 < ratio < 0.2
    assert abs(float(cinc.min_abs_diagonal(params)) - 1.0) < 0.05
    assert float(jnp.abs(log_det).max()) < 36 * 4 * 0.05


def test_filter_falls_back_to_wavefront_when_gain_is_too_large():
    params = _params(jax.random.PRNGKey(15), 4, sigma=0.2)
    y = jax.random.normal(jax.random.PRNGKey(16), (2, 6, 6, 4))
    _, gain = cinc.inverse_filter(params, 6, 6)
    wavefront, _ = cinc.inverse(params, y, method="wavefront")
    below = float(gain) * 0.5
    report = cinc.solve(params, y, method="filter", max_gain=below)
    assert not bool(report.used_filter)
    np.testing.assert_array_equal(report.x, wavefront)
    report = cinc.solve(params, y, method="filter", max_gain=2.0 * float(gain))
    assert bool(report.used_filter)
    np.testing.assert_allclose(report.gain_bound, gain, rtol=1e-6)


def test_gain_bounds_the_inverse_norm():
    params = _params(jax.random.PRNGKey(17), 3)
    h, gain = cinc.inverse_filter(params, 4, 4)
    jacobian = _dense_jacobian(params, (4, 4, 3))
    inverse_inf_norm = np.abs(np.linalg.inv(jacobian)).sum(axis=1).max()
    assert h.shape == (4, 4, 3, 3)
    # The gain is the worst row sum of the inverse over all output pixels,
    # attained at the bottom-right pixel: equal up to rounding.
    np.testing.assert_allclose(float(gain), inverse_inf_norm, rtol=1e-4)


def test_report_flag_an_ill_conditioned_layer():
    params = _params(jax.random.PRNGKey(18), 12, sigma=0.2)
    y = jax.random.normal(jax.random.PRNGKey(19), (2, 8, 8, 12))
    report = cinc.solve(params, y, method="filter")
    assert 1e4 < float(report.gain_bound) < np.inf
    assert not bool(report.used_filter)
    # Back substitution stays backward stable: a small residual, large gain.
    residual, error = residual_and_error(cinc.forward, params, y, report.x)
    assert error < roundoff(jnp.float32, y, ulps=2048)
    np.testing.assert_allclose(report.residual, residual, rtol=1e-5, atol=0)
    assert report.x.shape == y.shape


def test_report_report_overflow_as_infinite_gain():
    params = _params(jax.random.PRNGKey(18), 12, sigma=0.3)
    params = params._replace(log_diag=params.log_diag.at[0].set(-8.0))
    y = jax.random.normal(jax.random.PRNGKey(19), (2, 8, 8, 12))
    report = cinc.solve(params, y)
    np.testing.assert_allclose(report.min_abs_diagonal, np.exp(-8.0), rtol=1e-5)
    assert float(report.gain_bound) == np.inf


def test_report_of_an_empty_batch():
    params = _params(jax.random.PRNGKey(23), 3)
    y = jnp.zeros((0, 4, 4, 3))
    report = cinc.solve(params, y)
    assert report.x.shape == y.shape
    assert report.residual.shape == report.converged.shape == (0,)
    assert float(report.min_abs_diagonal) > 0


def test_raises_if_wrong_channels():
    params = _params(jax.random.PRNGKey(20), 3)
    with pytest.raises(ValueError, match="channels 4 != 3"):
        cinc.forward(params, jnp.ones((1, 4, 4, 4)))
    with pytest.raises(ValueError, match="channels 4 != 3"):
        cinc.inverse(params, jnp.ones((1, 4, 4, 4)))


def test_raises_if_bad_kernel_shape():
    params = cinc.Params(kernel=jnp.ones((3, 2, 4, 4)), log_diag=jnp.zeros(4))
    with pytest.raises(ValueError, match=r"\(k, k, c, c\)"):
        cinc.forward(params, jnp.ones((1, 4, 4, 4)))


def test_raises_if_bad_log_diag_shape():
    params = cinc.Params(kernel=jnp.ones((3, 3, 4, 4)), log_diag=jnp.zeros(3))
    with pytest.raises(ValueError, match="log_diag"):
        cinc.forward(params, jnp.ones((1, 4, 4, 4)))


def test_raises_if_unknown_method():
    params = _params(jax.random.PRNGKey(21), 3)
    with pytest.raises(ValueError, match="method must be one of"):
        cinc.inverse(params, jnp.ones((1, 4, 4, 3)), method="newton")


def test_raises_if_integer_input():
    params = _params(jax.random.PRNGKey(22), 3)
    with pytest.raises(ValueError, match="floating"):
        cinc.forward(params, jnp.ones((1, 4, 4, 3), jnp.int32))
