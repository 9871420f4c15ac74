"""Dense and LU 1x1 convolutions: references, singular weights, bad input."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from jinvnet.ops import conv1x1, conv1x1_lu


def test_forward_matches_numpy_per_pixel_matmul():
    params = conv1x1.init(jax.random.PRNGKey(0), 3)
    x = jax.random.normal(jax.random.PRNGKey(1), (2, 4, 5, 3))
    y, log_det = conv1x1.forward(params, x)
    w = np.asarray(params.weight)
    np.testing.assert_allclose(y, np.asarray(x) @ w.T, rtol=1e-5, atol=1e-6)
    expected = 4 * 5 * np.log(abs(np.linalg.det(w)))
    np.testing.assert_allclose(log_det, [expected] * 2, atol=1e-5)


def test_singular_weight_gives_minus_inf_log_det_and_infinite_condition():
    params = conv1x1.Params(jnp.array([[1.0, 2.0], [2.0, 4.0]]))
    _, log_det = conv1x1.forward(params, jnp.ones((1, 2, 2, 2)))
    assert np.all(np.isneginf(log_det))
    assert conv1x1.condition_number(params) > 1e7


def test_lu_weight_is_p_l_u_and_matches_dense_op():
    params = conv1x1_lu.init(jax.random.PRNGKey(2), 5)
    params = params._replace(log_scale=params.log_scale + 0.3)
    p = np.eye(5)[np.asarray(params.permutation)]
    lower = np.tril(np.asarray(params.lower), -1) + np.eye(5)
    upper = np.triu(np.asarray(params.upper), 1) + np.diag(
        np.asarray(params.sign) * np.exp(np.asarray(params.log_scale))
    )
    np.testing.assert_allclose(conv1x1_lu.weight(params), p @ lower @ upper, atol=1e-6)
    x = jax.random.normal(jax.random.PRNGKey(3), (2, 3, 3, 5))
    dense = conv1x1.Params(conv1x1_lu.weight(params))
    for a, b in zip(conv1x1_lu.forward(params, x), conv1x1.forward(dense, x)):
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-5)
    for a, b in zip(conv1x1_lu.inverse(params, x), conv1x1.inverse(dense, x)):
        np.testing.assert_allclose(a, b, rtol=1e-4, atol=1e-4)


def test_lu_init_is_a_rotation():
    params = conv1x1_lu.init(jax.random.PRNGKey(4), 6)
    w = np.asarray(conv1x1_lu.weight(params))
    np.testing.assert_allclose(w @ w.T, np.eye(6), atol=1e-5)
    assert float(conv1x1_lu.min_abs_diagonal(params)) > 0


def test_raises_if_weight_not_square():
    with pytest.raises(ValueError, match=r"square matrix of shape \(4, 4\), got shape"):
        conv1x1.forward(conv1x1.Params(jnp.ones((3, 4))), jnp.ones((1, 2, 2, 4)))


def test_raises_if_channels_mismatch():
    params = conv1x1_lu.init(jax.random.PRNGKey(0), 3)
    with pytest.raises(ValueError, match="channels 4 != 3"):
        conv1x1_lu.inverse(params, jnp.ones((1, 2, 2, 4)))
