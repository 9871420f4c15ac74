import jax
import jax.numpy as jnp
import numpy as np
import pytest

from jinvnet.ops import small_linalg
from tests.conftest import LINEAR_ULPS, roundoff


def _matrices(shape, complex_valued, seed=0):
    rng = np.random.default_rng(seed)
    a = rng.normal(size=shape)
    if complex_valued:
        a = a + 1j * rng.normal(size=shape)
    return a


@pytest.mark.parametrize("complex_valued", [False, True], ids=["real", "complex"])
def test_matches_numpy_inverse_and_slogdet(dtype, complex_valued):
    a = _matrices((2, 3, 6, 6), complex_valued)
    cast = jnp.complex128 if dtype == jnp.float64 else jnp.complex64
    a_jax = jnp.asarray(a, cast if complex_valued else dtype)
    inverse, log_abs_det = small_linalg.inv_and_log_abs_det(a_jax)
    expected_inverse = np.linalg.inv(a)
    condition = float(np.max(np.linalg.cond(a)))
    assert inverse.shape == (2, 3, 6, 6) and log_abs_det.shape == (2, 3)
    np.testing.assert_allclose(
        inverse,
        expected_inverse,
        rtol=0,
        atol=roundoff(
            dtype, np.abs(expected_inverse), ulps=LINEAR_ULPS, condition=condition
        ),
    )
    expected = np.linalg.slogdet(a)[1]
    np.testing.assert_allclose(
        log_abs_det, expected, rtol=0, atol=roundoff(dtype, expected, condition=6)
    )


def test_pivots_past_a_zero_leading_entry():
    # Without row exchanges the first pivot would be 0.
    a = np.array([[[0.0, 2.0, 1.0], [1.0, 0.0, 0.0], [3.0, 1.0, 4.0]]])
    with jax.enable_x64(True):
        inverse, log_abs_det = small_linalg.inv_and_log_abs_det(jnp.asarray(a))
    np.testing.assert_allclose(inverse, np.linalg.inv(a), rtol=0, atol=1e-14)
    np.testing.assert_allclose(log_abs_det, np.log(7.0), rtol=0, atol=1e-14)


def test_singular_gives_minus_inf_and_nan_only_where_singular():
    a = np.array(
        [
            [[1.0, 2.0], [2.0, 4.0]],  # rank 1
            [[0.0, 0.0], [0.0, 1.0]],  # a zero column
            [[2.0, 1.0], [1.0, 1.0]],  # det 1
        ]
    )
    inverse, log_abs_det = small_linalg.inv_and_log_abs_det(jnp.asarray(a, jnp.float32))
    assert np.isneginf(log_abs_det[:2]).all()
    assert np.isnan(inverse[:2]).all()
    np.testing.assert_allclose(inverse[2], [[1.0, -1.0], [-1.0, 2.0]], atol=1e-6)
    np.testing.assert_allclose(log_abs_det[2], 0.0, atol=1e-6)


@pytest.mark.parametrize("complex_valued", [False, True], ids=["real", "complex"])
def test_derivatives_match_closed_forms(complex_valued):
    # d log|det A| / dA = A^{-T} (real), d A^{-1} = -A^{-1} dA A^{-1}; checked
    # through a real parameter so the complex case needs no convention.
    with jax.enable_x64(True):
        rng = np.random.default_rng(1)
        a = _matrices((3, 4, 4), complex_valued, seed=2)
        direction = _matrices((3, 4, 4), complex_valued, seed=3)

        def along(t):
            return jnp.asarray(a) + t * jnp.asarray(direction)

        d_inverse, d_log = jax.jacfwd(
            lambda t: small_linalg.inv_and_log_abs_det(along(t))
        )(0.0)
        inverse = np.linalg.inv(a)
        expected_d_log = np.trace(inverse @ direction, axis1=-2, axis2=-1).real
        np.testing.assert_allclose(d_log, expected_d_log, rtol=0, atol=1e-12)
        expected_d_inverse = -(inverse @ direction @ inverse)
        np.testing.assert_allclose(d_inverse, expected_d_inverse, rtol=0, atol=1e-12)

        weights = jnp.asarray(rng.normal(size=(3,)))
        gradient = jax.grad(
            lambda t: jnp.sum(weights * small_linalg.log_abs_det(along(t)))
        )(0.0)
        np.testing.assert_allclose(
            gradient, np.sum(np.asarray(weights) * expected_d_log), atol=1e-12
        )


def test_second_derivative_matches_finite_differences():
    with jax.enable_x64(True):
        a = jnp.asarray(_matrices((4, 4), False, seed=4))
        e = jnp.asarray(_matrices((4, 4), False, seed=5))

        def f(t):
            return small_linalg.log_abs_det(a + t * e)

        second = jax.grad(jax.grad(f))(0.0)
        h = 1e-4
        expected = (
            np.linalg.slogdet(np.asarray(a + h * e))[1]
            - 2 * np.linalg.slogdet(np.asarray(a))[1]
            + np.linalg.slogdet(np.asarray(a - h * e))[1]
        ) / h**2
        np.testing.assert_allclose(second, expected, rtol=1e-5)


def test_emits_no_lapack_custom_call():
    a = jnp.ones((5, 3, 3)) + jnp.eye(3)
    lowered = jax.jit(jax.grad(lambda m: jnp.sum(small_linalg.log_abs_det(m)))).lower(a)
    text = lowered.as_text()
    assert "custom_call" not in text
    assert "custom_call" in jax.jit(jnp.linalg.slogdet).lower(a).as_text()


@pytest.mark.parametrize("shape", [(3,), (2, 3), (2, 3, 4)])
def test_raises_if_not_square_matrices(shape):
    with pytest.raises(ValueError, match="square matrices"):
        small_linalg.inv_and_log_abs_det(jnp.ones(shape))
