"""Dense and LU 1x1 convolutions: references, singular weights, bad input."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from jinvnet.ops import conv1x1, conv1x1_lu
from tests.conftest import LINEAR_ULPS, roundoff


def test_forward_matches_numpy_per_pixel_matmul():
    params = conv1x1.init(jax.random.PRNGKey(0), 3)
    x = jax.random.normal(jax.random.PRNGKey(1), (2, 4, 5, 3))
    y, log_det = conv1x1.forward(params, x)
    w = np.asarray(params.weight)
    expected_y = np.asarray(x, np.float64) @ np.asarray(w, np.float64).T
    atol = roundoff(jnp.float32, expected_y, ulps=16)
    np.testing.assert_allclose(y, expected_y, rtol=0, atol=atol)
    expected = 4 * 5 * np.log(abs(np.linalg.det(np.asarray(w, np.float64))))
    # 20 copies of log|det W| = 0 (a rotation), each exact to a few ulps.
    atol = roundoff(jnp.float32, expected, ulps=8 * 20)
    np.testing.assert_allclose(log_det, [expected] * 2, rtol=0, atol=atol)


def test_singular_weight_gives_minus_inf_log_det_and_infinite_condition():
    params = conv1x1.Params(jnp.array([[1.0, 2.0], [2.0, 4.0]]))
    _, log_det = conv1x1.forward(params, jnp.ones((1, 2, 2, 2)))
    assert np.all(np.isneginf(log_det))
    assert conv1x1.condition_number(params) > 1e7


@pytest.mark.parametrize(
    "weight",
    [[[2.0, 0.0], [0.0, 0.5]], [[1.0, 2.0], [3.0, 4.0]], [[0.0, 1.0], [1.0, 0.0]]],
)
def test_condition_number_matches_numpy(weight):
    weight = np.asarray(weight, np.float32)
    expected = np.linalg.cond(weight.astype(np.float64))
    value = conv1x1.condition_number(conv1x1.Params(jnp.asarray(weight)))
    # sigma_min's relative error is about eps * cond.
    rtol = roundoff(jnp.float32, ulps=LINEAR_ULPS, condition=expected)
    np.testing.assert_allclose(value, expected, rtol=rtol)


@pytest.mark.parametrize(
    "weight", [np.zeros((3, 3)), np.ones((2, 2)), np.diag([1.0, 0.0, 2.0])]
)
def test_condition_number_of_a_singular_weight_is_inf(weight):
    # The zero weight used to give 0 / 0 = nan; its docstring promises inf.
    value = conv1x1.condition_number(conv1x1.Params(jnp.asarray(weight, jnp.float32)))
    assert value.dtype == jnp.float32 and float(value) == np.inf


def test_condition_number_of_a_nan_weight_is_nan():
    weight = jnp.eye(2).at[0, 1].set(jnp.nan)
    assert np.isnan(float(conv1x1.condition_number(conv1x1.Params(weight))))


def test_min_abs_diagonal_edge_cases():
    params = conv1x1_lu.init(jax.random.PRNGKey(5), 3)
    singular = params._replace(log_scale=params.log_scale.at[1].set(-jnp.inf))
    assert float(conv1x1_lu.min_abs_diagonal(singular)) == 0.0
    underflow = params._replace(log_scale=params.log_scale.at[1].set(-200.0))
    assert float(conv1x1_lu.min_abs_diagonal(underflow)) == 0.0  # exp(-200) < tiny
    poisoned = params._replace(log_scale=params.log_scale.at[1].set(jnp.nan))
    assert np.isnan(float(conv1x1_lu.min_abs_diagonal(poisoned)))


def test_lu_weight_is_p_l_u_and_matches_dense_op():
    params = conv1x1_lu.init(jax.random.PRNGKey(2), 5)
    params = params._replace(log_scale=params.log_scale + 0.3)
    p = np.eye(5)[np.asarray(params.permutation)]
    lower = np.tril(np.asarray(params.lower), -1) + np.eye(5)
    upper = np.triu(np.asarray(params.upper), 1) + np.diag(
        np.asarray(params.sign) * np.exp(np.asarray(params.log_scale))
    )
    expected_weight = p @ lower @ upper
    atol = roundoff(jnp.float32, expected_weight, ulps=16)
    np.testing.assert_allclose(
        conv1x1_lu.weight(params), expected_weight, rtol=0, atol=atol
    )
    x = jax.random.normal(jax.random.PRNGKey(3), (2, 3, 3, 5))
    dense = conv1x1.Params(conv1x1_lu.weight(params))
    condition = float(conv1x1.condition_number(dense))
    for a, b in zip(conv1x1_lu.forward(params, x), conv1x1.forward(dense, x)):
        np.testing.assert_allclose(a, b, rtol=0, atol=roundoff(jnp.float32, b))
    for a, b in zip(conv1x1_lu.inverse(params, x), conv1x1.inverse(dense, x)):
        atol = roundoff(jnp.float32, b, ulps=LINEAR_ULPS, condition=condition)
        np.testing.assert_allclose(a, b, rtol=0, atol=atol)


def test_lu_init_is_a_rotation():
    params = conv1x1_lu.init(jax.random.PRNGKey(4), 6)
    w = np.asarray(conv1x1_lu.weight(params))
    atol = roundoff(jnp.float32, ulps=64)  # QR, then its LU factors multiplied
    np.testing.assert_allclose(w @ w.T, np.eye(6), rtol=0, atol=atol)
    assert float(conv1x1_lu.min_abs_diagonal(params)) > 0


def test_raises_if_weight_not_square():
    with pytest.raises(ValueError, match=r"square matrix of shape \(4, 4\), got shape"):
        conv1x1.forward(conv1x1.Params(jnp.ones((3, 4))), jnp.ones((1, 2, 2, 4)))


def test_raises_if_channels_mismatch():
    params = conv1x1_lu.init(jax.random.PRNGKey(0), 3)
    with pytest.raises(ValueError, match="channels 4 != 3"):
        conv1x1_lu.inverse(params, jnp.ones((1, 2, 2, 4)))
