"""Conditional checkerboard coupling: the formula, the mask, the context, bad input.

The contract (tests/contract.py) checks round trips and log-dets against dense
Jacobians; here the forward map is checked against a numpy evaluation of the
docstring's equations, given the conditioner's output.
"""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from jinvnet import ops
from tests.contract import perturb

cc = ops.conditional_coupling


@pytest.fixture(autouse=True)
def _float64():
    with jax.enable_x64(True):
        yield


def _params(channels=2, context_shape=(3, 4, 5, 3), seed=0):
    k1, k2, k3 = jax.random.split(jax.random.PRNGKey(seed), 3)
    context = jax.random.normal(k1, context_shape, jnp.float64)
    params = cc.init(k2, channels, context, hidden_channels=6, dtype=jnp.float64)
    return perturb(params, k3, 0.3)


def _x(shape=(3, 4, 5, 2), seed=1):
    return jax.random.normal(jax.random.PRNGKey(seed), shape, jnp.float64)


@pytest.mark.parametrize("parity", [0, 1])
def test_forward_matches_numpy_equations(parity):
    params, x = _params(), _x()
    y, log_det = cc.forward(params, x, parity=parity)
    i, j = np.meshgrid(np.arange(4), np.arange(5), indexing="ij")
    m = ((i + j + parity) % 2 == 0).astype(np.float64)[..., None]
    x_np = np.asarray(x)
    net_in = np.concatenate([m * x_np, np.asarray(params.context)], -1)
    out = np.asarray(ops.conv_net.apply(params.net, jnp.asarray(net_in)))
    t, r = out[..., :2], out[..., 2:]
    log_s = 3.0 * np.tanh(r / 3.0)
    expected = m * x_np + (1 - m) * (x_np * np.exp(log_s) + t)
    np.testing.assert_allclose(y, expected, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(
        log_det, np.sum((1 - m) * log_s, axis=(1, 2, 3)), rtol=1e-12, atol=1e-12
    )
    kept = m[..., 0] == 1
    np.testing.assert_array_equal(np.asarray(y)[:, kept], x_np[:, kept])  # exact
    assert np.all(np.asarray(y)[:, ~kept] != x_np[:, ~kept])


def test_init_is_the_identity():
    context = jax.random.normal(jax.random.PRNGKey(0), (2, 3, 3, 4), jnp.float64)
    params = cc.init(jax.random.PRNGKey(1), 1, context, dtype=jnp.float64)
    x = _x((2, 3, 3, 1))
    for parity in (0, 1):
        y, log_det = cc.forward(params, x, parity=parity)
        np.testing.assert_array_equal(y, x)
        np.testing.assert_array_equal(log_det, np.zeros(2))


def test_context_without_batch_serves_every_example():
    batched = _params(context_shape=(3, 4, 5, 3))
    shared = batched._replace(context=batched.context[1])
    x = _x()
    y_shared, ld_shared = cc.forward(shared, x, parity=1)
    for b in range(3):
        one = batched._replace(
            context=jnp.broadcast_to(batched.context[1], (3, 4, 5, 3))
        )
        y, ld = cc.forward(one, x, parity=1)
        np.testing.assert_allclose(y_shared[b], y[b], rtol=1e-13, atol=1e-13)
        np.testing.assert_allclose(ld_shared[b], ld[b], rtol=1e-13, atol=1e-13)


def test_output_depends_on_the_context_only_where_transformed():
    params, x = _params(), _x()
    other = params._replace(context=params.context.at[0].add(1.0))
    y, _ = cc.forward(params, x, parity=0)
    y_other, _ = cc.forward(other, x, parity=0)
    np.testing.assert_array_equal(y_other[1:], y[1:])  # examples do not mix
    i, j = np.meshgrid(np.arange(4), np.arange(5), indexing="ij")
    kept = (i + j) % 2 == 0
    np.testing.assert_array_equal(y_other[0][kept], y[0][kept])
    assert np.all(np.asarray(y_other[0])[~kept] != np.asarray(y[0])[~kept])


def test_raises_if_context_size_differs():
    params = _params(context_shape=(3, 4, 4, 3))
    with pytest.raises(
        ValueError, match=r"expected input of shape \(\.\.\., 4, 4, 2\)"
    ):
        cc.forward(params, _x((3, 4, 5, 2)))


def test_raises_if_channels_differ():
    with pytest.raises(ValueError, match=r"channels 3 != 2"):
        cc.forward(_params(), _x((3, 4, 5, 3)))


def test_raises_if_context_batch_does_not_broadcast():
    params = _params(context_shape=(2, 4, 5, 3))
    with pytest.raises(ValueError, match=r"must broadcast to the input's \(3,\)"):
        cc.forward(params, _x((3, 4, 5, 2)))


def test_raises_if_context_channels_differ_from_the_conditioner():
    params = _params()
    params = params._replace(context=params.context[..., :2])
    with pytest.raises(ValueError, match="conditioner takes 5 channels, expected"):
        cc.inverse(params, _x())


@pytest.mark.parametrize("parity", [2, -1])
def test_raises_if_parity_is_not_0_or_1(parity):
    with pytest.raises(ValueError, match=f"parity must be 0 or 1, got {parity}"):
        cc.with_parity(parity)
    with pytest.raises(ValueError, match="parity must be 0 or 1"):
        cc.forward(_params(), _x(), parity=parity)
