"""One op API: every convolution op's `init` takes the same arguments the same way.

    init(key, channels, *, kernel_size=3, init_scale=None, ..., dtype=float32)

for fft_conv, cinc, emerging and mint (init_scale None = the op's documented
default), and init(key, channels, *, dtype=float32) for the 1x1 convolutions
(actnorm: init(channels, *, dtype=float32)). The defaults are checked by value.
"""

import importlib
import inspect
import pkgutil

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from jinvnet import ops
from jinvnet.ops import _causal_conv

KEY = jax.random.PRNGKey(0)
CONVOLUTIONS = [ops.fft_conv, ops.cinc, ops.emerging, ops.mint]


def _signature(op):
    return inspect.signature(inspect.unwrap(op.init)).parameters


@pytest.mark.parametrize("op", CONVOLUTIONS, ids=lambda op: op.__name__)
def test_convolution_init_signature(op):
    params = _signature(op)
    names = list(params)
    assert names[:2] == ["key", "channels"]
    for name in names[:2]:
        assert params[name].kind is inspect.Parameter.POSITIONAL_OR_KEYWORD
    assert names[2:4] == ["kernel_size", "init_scale"] and names[-1] == "dtype"
    for name in names[2:]:
        assert params[name].kind is inspect.Parameter.KEYWORD_ONLY, name
    assert params["kernel_size"].default == 3
    assert params["init_scale"].default is None
    assert params["dtype"].default == jnp.float32


@pytest.mark.parametrize("op", [ops.conv1x1, ops.conv1x1_lu], ids=lambda o: o.__name__)
def test_1x1_init_signature(op):
    params = _signature(op)
    assert list(params) == ["key", "channels", "dtype"]
    assert params["dtype"].kind is inspect.Parameter.KEYWORD_ONLY
    with pytest.raises(TypeError):
        op.init(KEY, 3, jnp.float64)  # dtype is keyword-only


def test_actnorm_init_signature():
    params = _signature(ops.actnorm)
    assert list(params) == ["channels", "dtype"]
    assert params["dtype"].kind is inspect.Parameter.KEYWORD_ONLY


def test_init_scale_none_is_each_ops_documented_default():
    """None gives the same parameters as the default written out."""
    fan_in = _causal_conv.default_init_scale(4, 3)  # 0.1 / sqrt(k^2 c)
    np.testing.assert_allclose(fan_in, 0.1 / np.sqrt(9 * 4))
    for op, value in (
        (ops.fft_conv, 0.01),
        (ops.cinc, fan_in),
        (ops.emerging, fan_in),
        (ops.mint, 0.1),
    ):
        default = jax.tree_util.tree_leaves(op.init(KEY, 4))
        explicit = jax.tree_util.tree_leaves(op.init(KEY, 4, init_scale=value))
        assert len(default) == len(explicit)
        for a, b in zip(default, explicit):
            np.testing.assert_allclose(a, b, rtol=1e-6, err_msg=op.__name__)
        doubled = jax.tree_util.tree_leaves(op.init(KEY, 4, init_scale=2 * value))
        assert any(not np.allclose(a, b) for a, b in zip(default, doubled))


@pytest.mark.parametrize("op", CONVOLUTIONS, ids=lambda op: op.__name__)
def test_kernel_size_is_honoured(op):
    leaves = jax.tree_util.tree_leaves(op.init(KEY, 2, kernel_size=5))
    assert any(leaf.shape[:2] == (5, 5) for leaf in leaves if leaf.ndim == 4)


def _public_functions():
    for info in pkgutil.iter_modules(ops.__path__):
        if info.name.startswith("_"):
            continue
        module = importlib.import_module(f"jinvnet.ops.{info.name}")
        for name, obj in vars(module).items():
            if name.startswith("_") or not callable(obj) or isinstance(obj, type):
                continue
            if getattr(obj, "__module__", None) == module.__name__ or hasattr(
                obj, "lower"
            ):
                yield f"{info.name}.{name}", obj


def test_public_op_functions_are_plain_functions_callers_jit():
    """One rule for jit: ops are plain functions and callers jit them (a private
    compiled kernel inside an op, e.g. a solver loop, is the op's own business)."""
    functions = dict(_public_functions())
    assert "cinc.forward" in functions and "mint.solve" in functions
    jitted = sorted(name for name, fn in functions.items() if hasattr(fn, "lower"))
    assert not jitted, f"jit-wrapped public op functions: {jitted}"


def test_variants_are_blocks_that_check_their_options_when_built():
    """An op's variant binds its options once (the bijectors take these Blocks)."""
    params = ops.cinc.init(KEY, 3)
    y = jax.random.normal(jax.random.PRNGKey(1), (2, 5, 5, 3))
    rows = ops.cinc.with_method("rows")
    np.testing.assert_array_equal(
        rows.inverse(params, y)[0], ops.cinc.inverse(params, y, method="rows")[0]
    )
    np.testing.assert_array_equal(
        rows.forward(params, y)[0], ops.cinc.forward(params, y)[0]
    )
    for build, match in (
        (lambda: ops.cinc.with_method("lu"), "method must be one of"),
        (lambda: ops.emerging.with_method("lu"), "method must be one of"),
        (lambda: ops.affine_coupling.with_min_scale(1.5), "min_scale must lie in"),
        (lambda: ops.mint.with_options(alpha=0.0), "alpha must be positive"),
        (lambda: ops.mint.with_options(on_failure="warn"), "on_failure must be one of"),
        (lambda: ops.fft_conv.with_log_det_method("qr"), "log_det_method"),
    ):
        with pytest.raises(ValueError, match=match):
            build()


def _report_cases():
    """(name, solve, forward, params, y) for every op whose inverse reports."""
    y = jax.random.normal(jax.random.PRNGKey(1), (2, 6, 6, 4))
    return [
        ("cinc", ops.cinc.solve, ops.cinc.forward, ops.cinc.init(KEY, 4), y),
        (
            "emerging",
            ops.emerging.solve,
            ops.emerging.forward,
            ops.emerging.init(KEY, 4),
            y,
        ),
        ("mint", ops.mint.solve, ops.mint.forward, ops.mint.init(KEY, 4), y),
    ]


@pytest.mark.parametrize("case", _report_cases(), ids=lambda case: case[0])
def test_every_reporting_inverse_returns_one_result_type(case):
    _, solve, forward, params, y = case
    result = solve(params, y)
    assert type(result) is ops.inverse_result.InverseResult
    # The shared fields mean the same for every op: checked against numpy.
    fx = np.asarray(forward(params, result.x)[0], np.float64)
    error = np.abs(fx - np.asarray(y, np.float64)).max(axis=(1, 2, 3))
    scale = np.maximum(1.0, np.abs(np.asarray(y)).max(axis=(1, 2, 3)))
    np.testing.assert_allclose(result.residual, error / scale, rtol=1e-5, atol=1e-9)
    assert result.converged.shape == (2,) and result.converged.dtype == jnp.bool_
    np.testing.assert_array_equal(
        result.converged,
        np.asarray(result.residual)
        <= ops.inverse_result.default_tolerance(jnp.float32),
    )
    assert result.iterations.shape == () and result.iterations.dtype == jnp.int32


def test_no_op_defines_its_own_inverse_report_type():
    for info in pkgutil.iter_modules(ops.__path__):
        module = importlib.import_module(f"jinvnet.ops.{info.name}")
        for name in ("Diagnostics", "InverseReport"):
            assert not hasattr(module, name), f"{info.name}.{name}"
        if hasattr(module, "InverseResult"):
            assert module.InverseResult is ops.inverse_result.InverseResult


# (op, its params with one kernel to probe, the kernel's field, a tap that is free
# in that kernel's mask). Probed with in-channel 0 -> out-channel 1.
def _layout_cases():
    c = 3
    cinc_params = ops.cinc.init(KEY, c)._replace(log_diag=jnp.zeros(c))
    emerging_params = ops.emerging.init(KEY, c)
    emerging_params = emerging_params._replace(
        anticausal=jnp.zeros_like(emerging_params.anticausal)
    )
    return [
        ("fft_conv", ops.fft_conv.forward, ops.fft_conv.init(KEY, c), "kernel", (0, 2)),
        ("cinc", ops.cinc.forward, cinc_params, "kernel", (0, 1)),
        ("emerging", ops.emerging.forward, emerging_params, "causal", (0, 1)),
    ]


@pytest.mark.parametrize("case", _layout_cases(), ids=lambda case: case[0])
def test_every_convolution_kernel_is_hwio(case):
    """kernel[a, b, i, o] carries input channel i to output channel o (HWIO), and
    tap (a, b) reads the pixel (a, b) - anchor away, as lax.conv with "HWIO"."""
    _, forward, params, field, tap = case
    kernel = getattr(params, field)
    entry = jnp.zeros_like(kernel).at[tap[0], tap[1], 0, 1].set(0.5)
    probed = params._replace(**{field: kernel + entry})
    x = jax.random.normal(jax.random.PRNGKey(2), (1, 6, 6, 3))
    difference = np.asarray(forward(probed, x)[0] - forward(params, x)[0])
    # The forward is linear in this kernel: the difference is the entry's own
    # convolution, which reads channel 0 (of the op's input to this kernel) and
    # writes channel 1 only.
    assert np.abs(difference[..., 1]).max() > 1e-3
    np.testing.assert_allclose(difference[..., [0, 2]], 0.0, atol=1e-6)
