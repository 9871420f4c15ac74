"""The float32 tolerance helper `tests.conftest.roundoff` scales with the values."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from tests.conftest import EPS32, LINEAR_ULPS, roundoff, scale_of


def test_roundoff_is_relative_to_the_values_and_the_condition_number():
    x = np.array([[3.0, -2.0], [0.5, 1.0]])
    assert scale_of(x) == 3.0 and scale_of(1e-3 * x) == 1.0  # floor of 1
    assert scale_of(1e-3 * x, floor=0.0) == pytest.approx(3e-3)
    assert roundoff(jnp.float32, x) == pytest.approx(64 * EPS32 * 3.0)
    assert roundoff(jnp.float32, 100 * x) == pytest.approx(
        100 * roundoff(jnp.float32, x)
    )
    assert roundoff(jnp.float32, x, ulps=8, condition=50.0) == pytest.approx(
        8 * 50 * EPS32 * 3.0
    )
    assert roundoff(jnp.float32, x, 10 * x) == roundoff(jnp.float32, 10 * x)
    assert roundoff(jnp.float32, np.array([np.inf, 2.0])) == roundoff(
        jnp.float32, np.array([2.0])
    )
    # float64 keeps its fixed relative tolerance, independent of ulps and condition.
    with jax.enable_x64(True):
        assert roundoff(jnp.float64, x, ulps=1e6, condition=1e6) == pytest.approx(
            1e-10 * 3.0
        )


@pytest.mark.parametrize("scale", [1e-2, 1.0, 1e2, 1e4])
def test_roundoff_bounds_a_float32_solve_at_every_scale(scale):
    # A float32 solve against the float64 reference: the error is round-off,
    # proportional to max |x| and cond(A), and so must the tolerance be.
    rng = np.random.default_rng(0)
    a = rng.normal(size=(16, 16)) + 4.0 * np.eye(16)
    x = scale * rng.normal(size=(16, 8))
    b = a @ x
    x32 = np.linalg.solve(a.astype(np.float32), b.astype(np.float32))
    error = np.abs(x32.astype(np.float64) - x).max()
    condition = np.linalg.cond(a)
    atol = roundoff(jnp.float32, x, ulps=LINEAR_ULPS, condition=condition, floor=0.0)
    assert error <= atol
    if scale >= 1e2:
        assert error > 1e-5  # a fixed atol of 1e-5 fails on pure round-off here
    # An error far above round-off (1e-3 relative) is still caught.
    wrong = x32 * (1.0 + 1e-3)
    assert np.abs(wrong.astype(np.float64) - x).max() > atol
