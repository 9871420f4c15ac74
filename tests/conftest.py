"""Shared fixtures: precision contexts and tolerances."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

EPS32 = float(np.finfo(np.float32).eps)  # 2**-23, about 1.2e-7
# ulps per unit of condition number for a round trip through a linear operator
# (`condition` below): measured at most 2.2 on 40 random FFT and 1x1 convolutions
# with condition numbers 1 to 1e3, so 16 leaves a margin of 7 for other CPUs.
LINEAR_ULPS = 16.0


@pytest.fixture(params=["float32", "float64"])
def dtype(request):
    """Runs the test once in float32 and once with jax_enable_x64 in float64."""
    with jax.enable_x64(request.param == "float64"):
        yield jnp.dtype(request.param)


def tolerance(dtype, f32: float, f64: float) -> float:
    """Picks the tolerance for the precision under test."""
    return f64 if jnp.dtype(dtype) == jnp.float64 else f32


def scale_of(*values, floor: float = 1.0) -> float:
    """max(floor, max |v| over the finite entries of `values`).

    This is the size that round-off is relative to. The default floor of 1 is for
    results that cancel from O(1) terms (a log-det near 0, a zero residual): their
    round-off is that of the terms, not of the result. Pass floor=0 to compare
    values much smaller than 1 relatively.
    """
    largest = [floor]
    for v in values:
        v = np.abs(np.asarray(v, np.float64))
        v = v[np.isfinite(v)]
        if v.size:
            largest.append(float(v.max()))
    return max(largest)


def roundoff(
    dtype,
    *values,
    ulps: float = 64.0,
    condition: float = 1.0,
    f64: float = 1e-10,
    floor: float = 1.0,
) -> float:
    """Absolute tolerance for the round-off in results of the size of `values`.

    float32: `ulps * EPS32 * condition * scale_of(*values)`. float32 rounding is
    not the same on every CPU (FFT and BLAS kernels, vector widths, FMA), so a
    float32 check must allow a few units in the last place of the values it
    compares, amplified by the conditioning of what it inverts, and never a fixed
    absolute number (1e-5 is 40 ulps at |x| = 2 but 0.4 ulps at |x| = 200).

    Args:
      dtype: the precision under test.
      *values: the arrays the compared results are as large as (the reference).
      ulps: the allowance in units of EPS32 * scale: 64 (default, 7.6e-6
        relative) for one layer's forward or round trip; `LINEAR_ULPS` per unit of
        `condition` when the operator's condition number is known; more for deep
        or iterative computations (1e-4 relative is about 840).
      condition: the condition number of the inverted operator (e.g.
        `ops.fft_conv.condition_number`); 1 when the allowance already covers it.
      f64: the float64 tolerance relative to the scale, kept fixed and tight.
      floor: the smallest scale (`scale_of`).

    Returns:
      The absolute tolerance, for `np.testing.assert_allclose(..., rtol=0,
      atol=...)`.
    """
    scale = scale_of(*values, floor=floor)
    if jnp.dtype(dtype) == jnp.float64:
        return f64 * scale
    return ulps * EPS32 * condition * scale


def residual_and_error(forward, params, y, x) -> tuple[np.ndarray, float]:
    """The reference for an `InverseResult`'s residual, and the absolute error.

    Returns max |f(x) - y| / max(1, max |y|) per example and max |f(x) - y| over
    the batch (0 for an empty batch), computed in numpy from `forward`.
    """
    fx = np.asarray(forward(params, x)[0], np.float64)
    y = np.asarray(y, np.float64)
    axes = (-3, -2, -1)
    error = np.abs(fx - y).max(axis=axes, initial=0.0)
    scale = np.maximum(1.0, np.abs(y).max(axis=axes, initial=0.0))
    return error / scale, float(error.max(initial=0.0))
