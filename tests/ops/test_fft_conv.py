"""Tests for the Fourier-domain circular convolution (seed 000)."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from jax.test_util import check_grads

from jinvnet.ops import fft_conv
from tests.conftest import LINEAR_ULPS, roundoff, tolerance

CHANNELS = 3
# Jitted entry points: one compilation per shape instead of one per eager primitive.
_forward = jax.jit(fft_conv.forward)
_inverse = jax.jit(fft_conv.inverse)
_log_det = jax.jit(fft_conv.log_det, static_argnums=(1, 2, 3))
_init = jax.jit(
    fft_conv.init,
    static_argnums=1,
    static_argnames=("kernel_size", "orthogonal", "dtype"),
)
# (kernel size, (height, width)): k in {1, 2, 3, 5}, odd / even, non-square sizes.
SHAPES = [
    (1, (3, 4)),
    (2, (4, 5)),
    (2, (6, 6)),
    (3, (5, 6)),
    (3, (7, 4)),
    (5, (5, 7)),
    (5, (8, 6)),
]
SHAPE_IDS = [f"k{k}-{h}x{w}" for k, (h, w) in SHAPES]


def _setup(kernel_size, height, width, dtype, batch=2, noise=0.3):
    k_params, k_x = jax.random.split(jax.random.PRNGKey(kernel_size + 10 * height))
    params = _init(
        k_params, CHANNELS, kernel_size=kernel_size, init_scale=noise, dtype=dtype
    )
    x = jax.random.normal(k_x, (batch, height, width, CHANNELS), dtype)
    return params, x


def _dense_jacobian(params, height, width):
    @jax.jit
    def jacobian_fn(params):
        def flat_forward(v):
            y, _ = fft_conv.forward(params, v.reshape(height, width, CHANNELS))
            return y.reshape(-1)

        n = height * width * CHANNELS
        return jax.jacfwd(flat_forward)(jnp.zeros((n,), params.kernel.dtype))

    jacobian = jacobian_fn(params)
    return np.asarray(jacobian, np.float64)


def _condition(params, height, width):
    return float(fft_conv.condition_number(params, height, width))


def _gain(params):
    """max_o sum_{a, b, c} |kernel[a, b, c, o]|: bounds max |y| / max |x|."""
    return float(jnp.max(jnp.sum(jnp.abs(params.kernel), axis=(0, 1, 2))))


def _wrapped_lax_conv(kernel, x):
    k = kernel.shape[0]
    pad = ((k - 1) // 2, k // 2)
    padded = jnp.pad(x, ((0, 0), pad, pad, (0, 0)), mode="wrap")
    return jax.lax.conv_general_dilated(
        padded, kernel, (1, 1), "VALID", dimension_numbers=("NHWC", "HWIO", "NHWC")
    )


@pytest.mark.parametrize("kernel_size, size", SHAPES[::2], ids=SHAPE_IDS[::2])
def test_forward_matches_lax_conv_on_wrapped_input(kernel_size, size, dtype):
    params, x = _setup(kernel_size, *size, dtype)
    y, _ = _forward(params, x)
    expected = _wrapped_lax_conv(params.kernel, x)
    # A forward pass: round-off relative to the bound max |x| * gain on |y|.
    atol = roundoff(dtype, np.abs(x).max() * _gain(params), f64=1e-12)
    np.testing.assert_allclose(y, expected, rtol=0, atol=atol)


@pytest.mark.parametrize("kernel_size, size", SHAPES, ids=SHAPE_IDS)
def test_log_det_paths_match_dense_jacobian(kernel_size, size, dtype):
    params, _ = _setup(kernel_size, *size, dtype)
    sign, expected = np.linalg.slogdet(_dense_jacobian(params, *size))
    assert sign != 0
    rtol = tolerance(dtype, 1e-4, 1e-9)
    values = {m: _log_det(params, *size, m) for m in fft_conv.LOG_DET_METHODS}
    for method, value in values.items():
        assert value.dtype == dtype, method
        np.testing.assert_allclose(
            value, expected, rtol=rtol, atol=rtol, err_msg=method
        )
    np.testing.assert_allclose(values["rfft"], values["complex"], rtol=rtol, atol=rtol)
    np.testing.assert_allclose(
        values["lifting"], values["complex"], rtol=rtol, atol=rtol
    )


@pytest.mark.parametrize("method", fft_conv.LOG_DET_METHODS)
def test_forward_and_inverse_log_det_use_the_method(method, dtype):
    params, x = _setup(3, 4, 5, dtype)
    y, forward_log_det = fft_conv.forward(params, x, log_det_method=method)
    _, inverse_log_det = fft_conv.inverse(params, y, log_det_method=method)
    expected = fft_conv.log_det(params, 4, 5, method)
    assert forward_log_det.shape == (2,) and forward_log_det.dtype == dtype
    np.testing.assert_array_equal(forward_log_det, jnp.full((2,), expected))
    # The inverse takes its "rfft" log-det from the LU of its solve: same value.
    rtol = 1e-5 if dtype == jnp.float32 else 1e-12
    np.testing.assert_allclose(inverse_log_det, -forward_log_det, rtol=rtol)


@pytest.mark.parametrize("kernel_size, size", SHAPES[1::2], ids=SHAPE_IDS[1::2])
def test_inverse_matches_dense_solve(kernel_size, size, dtype):
    params, x = _setup(kernel_size, *size, dtype)
    jacobian = _dense_jacobian(params, *size)
    x_dense = np.linalg.solve(jacobian, np.asarray(x, np.float64).reshape(2, -1).T).T
    x_fft, _ = _inverse(params, x)
    condition = np.linalg.cond(jacobian)  # the dense reference's, not the op's
    atol = roundoff(dtype, x_dense, ulps=LINEAR_ULPS, condition=condition)
    np.testing.assert_allclose(x_fft.reshape(2, -1), x_dense, rtol=0, atol=atol)
    y, _ = _forward(params, x_fft)
    atol = roundoff(dtype, x, ulps=LINEAR_ULPS, condition=condition)
    np.testing.assert_allclose(y, x, rtol=0, atol=atol)


@pytest.mark.parametrize("scale", [1.0, 100.0])
def test_arbitrary_batch_dims_and_empty_batch(dtype, scale):
    params, x = _setup(3, 4, 6, dtype, batch=6)
    x = scale * x.reshape(2, 3, 4, 6, CHANNELS)
    y, log_det = fft_conv.forward(params, x)
    x_back, inverse_log_det = fft_conv.inverse(params, y)
    assert y.shape == x.shape and log_det.shape == (2, 3)
    assert inverse_log_det.shape == (2, 3)
    # Relative to |x| and the kernel's condition number (about 190 here): a fixed
    # atol of 1e-5 failed on another x86-64 CPU at scale 1 (error 1.05e-5 on
    # values ~3.5) and fails everywhere at scale 100 (error ~5e-4).
    atol = roundoff(dtype, x, ulps=LINEAR_ULPS, condition=_condition(params, 4, 6))
    np.testing.assert_allclose(x_back, x, rtol=0, atol=atol)
    empty = jnp.zeros((0, 4, 6, CHANNELS), dtype)
    x_empty, log_det_empty = fft_conv.inverse(params, empty)
    assert x_empty.shape == empty.shape and log_det_empty.shape == (0,)


def test_singular_values_match_dense_jacobian(dtype):
    params, _ = _setup(3, 5, 4, dtype)
    expected = np.linalg.svd(_dense_jacobian(params, 5, 4), compute_uv=False)
    values = np.asarray(fft_conv.singular_values(params, 5, 4), np.float64)
    assert values.shape == (5, 3, CHANNELS)
    rtol = tolerance(dtype, 1e-5, 1e-10)
    np.testing.assert_allclose(values.max(), expected.max(), rtol=rtol)
    np.testing.assert_allclose(values.min(), expected.min(), rtol=rtol)
    np.testing.assert_allclose(
        fft_conv.condition_number(params, 5, 4),
        expected.max() / expected.min(),
        rtol=rtol,
    )


def test_orthogonal_init_is_an_isometry(dtype):
    params = fft_conv.init(
        jax.random.PRNGKey(0), 4, kernel_size=3, init_scale=0.0, dtype=dtype
    )
    np.testing.assert_allclose(fft_conv.condition_number(params, 6, 5), 1.0, rtol=1e-5)
    # A sum of 6 * 5 terms log|det A_f| = 0, each exact to a few ulps.
    atol = roundoff(dtype, ulps=8 * 6 * 5)
    for method in fft_conv.LOG_DET_METHODS:
        np.testing.assert_allclose(
            fft_conv.log_det(params, 6, 5, method), 0.0, rtol=0, atol=atol
        )


def test_identity_init_is_the_identity(dtype):
    params = fft_conv.init(
        jax.random.PRNGKey(0),
        2,
        kernel_size=4,
        init_scale=0.0,
        orthogonal=False,
        dtype=dtype,
    )
    x = jax.random.normal(jax.random.PRNGKey(1), (2, 4, 5, 2), dtype)
    y, log_det = fft_conv.forward(params, x)
    np.testing.assert_allclose(y, x, rtol=0, atol=roundoff(dtype, x, ulps=16))
    np.testing.assert_allclose(log_det, 0.0, rtol=0, atol=roundoff(dtype, ulps=8))


def test_singular_kernel_is_detected(dtype):
    # x[j] + x[j + 1] along the width: its DFT 1 + exp(i pi) vanishes at v = W / 2.
    taps = (
        jnp.zeros((2, 2, 2, 2), dtype).at[0, 0].set(jnp.eye(2)).at[0, 1].set(jnp.eye(2))
    )
    params = fft_conv.Params(taps)
    assert fft_conv.condition_number(params, 4, 4) > 1e6
    assert float(jnp.min(fft_conv.singular_values(params, 4, 4))) < 1e-6
    for method in fft_conv.LOG_DET_METHODS:
        value = fft_conv.log_det(params, 4, 4, method)
        assert not jnp.isnan(value) and value < -20.0, method
    y = jax.random.normal(jax.random.PRNGKey(0), (1, 4, 4, 2), dtype)
    x, _ = fft_conv.inverse(params, y)
    assert not np.all(np.isfinite(x)) or np.abs(x).max() > 1e5
    # The same taps on an odd width have no zero frequency: well conditioned.
    assert fft_conv.condition_number(params, 4, 5) < 10.0


def test_condition_number_of_zero_and_nan_kernels():
    zero = fft_conv.Params(jnp.zeros((3, 3, 2, 2)))
    assert float(fft_conv.condition_number(zero, 4, 4)) == np.inf
    nan = fft_conv.Params(jnp.zeros((3, 3, 2, 2)).at[1, 1, 0, 0].set(jnp.nan))
    assert np.isnan(float(fft_conv.condition_number(nan, 4, 4)))


@pytest.mark.parametrize("method", fft_conv.LOG_DET_METHODS)
def test_log_det_gradient_matches_finite_differences(method):
    with jax.enable_x64(True):
        params, _ = _setup(3, 4, 5, jnp.float64, noise=0.1)
        check_grads(
            lambda kernel: fft_conv.log_det(fft_conv.Params(kernel), 4, 5, method),
            (params.kernel,),
            order=1,
            modes=("fwd", "rev"),
        )


def test_inverse_gradient_matches_finite_differences():
    with jax.enable_x64(True):
        # Well conditioned (cond ~ 3), so central differences at the default step
        # stay within check_grads' tolerance.
        params, x = _setup(2, 4, 5, jnp.float64, noise=0.1)

        def inverse(kernel, y):
            return fft_conv.inverse(fft_conv.Params(kernel), y)[0]

        check_grads(inverse, (params.kernel, x), order=1, modes=("fwd", "rev"))


def test_raises_if_kernel_larger_than_image():
    params = fft_conv.init(jax.random.PRNGKey(0), 2, kernel_size=5)
    with pytest.raises(ValueError, match="larger than the image"):
        fft_conv.forward(params, jnp.ones((1, 4, 6, 2)))
    with pytest.raises(ValueError, match="larger than the image"):
        fft_conv.log_det(params, 6, 4)


def test_raises_if_channels_mismatch():
    params = fft_conv.init(jax.random.PRNGKey(0), 2, kernel_size=3)
    with pytest.raises(ValueError, match="channels 3 != 2"):
        fft_conv.inverse(params, jnp.ones((1, 4, 4, 3)))


def test_raises_if_kernel_not_square():
    with pytest.raises(ValueError, match="kernel must have shape"):
        fft_conv.forward(
            fft_conv.Params(jnp.ones((3, 2, 2, 2))), jnp.ones((1, 4, 4, 2))
        )
    with pytest.raises(ValueError, match="kernel must have shape"):
        fft_conv.forward(
            fft_conv.Params(jnp.ones((3, 3, 2, 4))), jnp.ones((1, 4, 4, 2))
        )


def test_raises_if_unknown_log_det_method():
    params = fft_conv.init(jax.random.PRNGKey(0), 2, kernel_size=3)
    with pytest.raises(ValueError, match="log_det_method"):
        fft_conv.forward(params, jnp.ones((1, 4, 4, 2)), log_det_method="dense")


def test_raises_if_integer_input():
    params = fft_conv.init(jax.random.PRNGKey(0), 2, kernel_size=3)
    with pytest.raises(ValueError, match="floating"):
        fft_conv.forward(params, jnp.ones((1, 4, 4, 2), jnp.int32))
