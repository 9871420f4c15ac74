"""Tests for the Mint bijectors: options, paired blocks and per-layer diagnostics."""

import distrax
import jax
import jax.numpy as jnp
import numpy as np
import pytest
from jax.experimental import checkify

from jinvnet import bijectors
from jinvnet.checked import checked
from jinvnet.ops import mint
from tests.contract import perturb


def _params(seed):
    k1, k2 = jax.random.split(jax.random.PRNGKey(seed))
    params = mint.init(k1, 2, num_groups=2, spatial_shape=(4, 4))
    return perturb(params, k2, 0.3)


def _x():
    return jax.random.normal(jax.random.PRNGKey(3), (2, 4, 4, 2))


def test_paired_block_jacobian_is_dense():
    """Lower then upper: no output is blind to any input (no blind spots)."""
    block = bijectors.mint_block(_params(0), _params(1))
    x = _x()[0]
    jac = jax.jit(jax.jacfwd(lambda v: block.forward(v.reshape(4, 4, 2)).reshape(-1)))(
        x.reshape(-1)
    )
    assert np.count_nonzero(np.asarray(jac)) > 0.9 * jac.size


def test_invert_with_diagnostics_reports_every_layer():
    block = distrax.Chain(
        [bijectors.Squeeze(), bijectors.mint_block(_params(0), _params(1))]
    )
    x = _x()
    z = block.forward(x)
    x_back, results = bijectors.invert_with_diagnostics(block, z)
    assert len(results) == 2
    assert all(bool(r.converged.all()) and r.residual.shape == (2,) for r in results)
    np.testing.assert_allclose(x_back, x, atol=2e-5)
    np.testing.assert_allclose(x_back, block.inverse(z), atol=1e-6)


def test_fixed_steps_option_uses_that_many_steps():
    """Four steps leave residuals ~1e-2: NaN at the default tol, the iterate at 0.05."""
    layer = bijectors.MintLayer(_params(0), upper=True, num_steps=4, alpha=0.9)
    y = layer.forward(_x())
    result = layer.solve(y)
    assert int(result.iterations) == 4
    assert np.all((result.residual > 1e-3) & (result.residual < 0.05))
    assert np.isfinite(np.asarray(result.x)).all()
    assert np.isnan(np.asarray(layer.inverse(y))).all()
    loose = bijectors.MintLayer(
        _params(0), upper=True, num_steps=4, alpha=0.9, tol=0.05
    )
    assert loose.solve(y).converged.all()
    np.testing.assert_array_equal(loose.inverse(y), result.x)


def test_alpha_above_two_is_flagged_by_the_bijector():
    layer = bijectors.MintLayer(_params(0), alpha=2.5, max_iters=30)
    result = layer.solve(layer.forward(_x()))
    assert not np.asarray(result.converged).any()
    assert int(result.iterations) <= 30


def test_float64_round_trip_meets_1e_10():
    with jax.enable_x64(True):
        params = jax.tree_util.tree_map(lambda a: a.astype(jnp.float64), _params(0))
        layer = bijectors.MintLayer(params)
        x = _x().astype(jnp.float64)
        np.testing.assert_allclose(
            layer.inverse(layer.forward(x)), x, rtol=0, atol=1e-10
        )


def test_unconverged_inverse_is_nan_not_finite_garbage():
    """Issue 15 item 3: init_scale=5 layers do not converge; inverse was finite and
    126..578 away from x (8x8), 1.8e14 away (16x16), under jit too."""
    layer = bijectors.MintLayer(
        mint.init(jax.random.PRNGKey(0), 2, num_groups=2, init_scale=5.0)
    )
    x = jax.random.normal(jax.random.PRNGKey(1), (2, 8, 8, 2))
    y = layer.forward(x)
    result = layer.solve(y)  # the diagnostics keep the iterate and its residual
    assert not np.asarray(result.converged).any()
    assert np.isfinite(np.asarray(result.x)).all()
    assert np.all(np.asarray(result.residual) > 1.0)
    for inverse in (layer.inverse_and_log_det, jax.jit(layer.inverse_and_log_det)):
        x_back, log_det = inverse(y)
        assert np.isnan(np.asarray(x_back)).all()
        assert np.isnan(np.asarray(log_det)).all()


def test_on_failure_raise_raises_eagerly_and_under_checked():
    layer = bijectors.MintLayer(
        mint.init(jax.random.PRNGKey(0), 2, num_groups=2, init_scale=5.0),
        on_failure="raise",
    )
    y = layer.forward(jax.random.normal(jax.random.PRNGKey(1), (2, 8, 8, 2)))
    with pytest.raises(checkify.JaxRuntimeError, match="did not converge"):
        layer.inverse(y)
    with pytest.raises(checkify.JaxRuntimeError, match="did not converge"):
        checked(layer.inverse)(y)


def test_raises_if_on_failure_is_unknown():
    with pytest.raises(ValueError, match=r"on_failure must be one of .*got 'ignore'"):
        bijectors.MintLayer(_params(0), on_failure="ignore")
