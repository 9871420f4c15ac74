"""Flax modules: data-dependent init, constants, full-model round trip and density."""

import flax
import jax
import jax.numpy as jnp
import numpy as np
import pytest

from jinvnet import models
from tests.conftest import roundoff


def _data(shape=(16, 8, 8, 2), seed=0):
    return 0.5 + 0.3 * jax.random.uniform(jax.random.PRNGKey(seed), shape)


def test_actnorm_module_data_init_normalises_first_batch():
    x = _data()
    module = models.ActNorm()
    variables = module.init(jax.random.PRNGKey(0), x)
    y = module.apply(variables, x).forward(x)
    # y = (x - mean) / std: the round-off of x in units of its std.
    atol = roundoff(jnp.float32, x / x.std())
    np.testing.assert_allclose(y.mean((0, 1, 2)), 0.0, rtol=0, atol=atol)
    np.testing.assert_allclose(y.std((0, 1, 2)), 1.0, rtol=5e-5)


def test_actnorm_deep_in_a_flow_is_initialised_on_propagated_data():
    x = _data()
    flow = models.Sequential(
        [models.Squeeze(), models.ActNorm(), models.Conv1x1LU(), models.ActNorm()]
    )
    variables = flow.init(jax.random.PRNGKey(0), x)
    z = flow.apply(variables, x).forward(x)
    # Only an ActNorm that saw the rotated, squeezed batch normalises it exactly.
    atol = roundoff(jnp.float32, x / x.std())  # a rotation keeps the scale
    np.testing.assert_allclose(z.mean((0, 1, 2)), 0.0, rtol=0, atol=atol)
    np.testing.assert_allclose(z.std((0, 1, 2)), 1.0, rtol=5e-5)


def test_lu_constants_are_not_trainable_params():
    x = _data()
    variables = models.Conv1x1LU().init(jax.random.PRNGKey(0), x)
    assert set(variables["params"]) == {"lower", "upper", "log_scale"}
    assert set(variables["constants"]) == {"permutation", "sign"}


def test_flow_round_trip_and_change_of_variables(dtype):
    x = _data().astype(dtype)
    model = models.FlowDensity(models.single_scale_glow(num_steps=2, hidden_channels=8))
    variables = model.init(jax.random.PRNGKey(0), x)
    # Move away from the initial (near-identity) parameters.
    variables = flax.core.unfreeze(variables)
    variables["params"] = jax.tree_util.tree_map(
        lambda p: (
            p + 0.05 * jnp.sin(jnp.arange(p.size, dtype=p.dtype).reshape(p.shape))
        ),
        variables["params"],
    )
    dist = model.apply(variables, x)
    flow = dist.bijector.bijector  # Inverse(flow) -> flow (data to latent)
    z, log_det = flow.forward_and_log_det(x)
    atol = roundoff(dtype, x, ulps=1024, f64=1e-9)  # a whole flow, TESTING.md #3
    np.testing.assert_allclose(flow.inverse(z), x, atol=atol, rtol=0)
    tol = 1e-4 if dtype == jnp.float32 else 1e-9
    z_flat = np.asarray(z, np.float64).reshape(len(x), -1)
    expected = (
        -0.5 * (z_flat**2).sum(1)
        - 0.5 * z_flat.shape[1] * np.log(2 * np.pi)
        + np.asarray(log_det, np.float64)
    )
    np.testing.assert_allclose(dist.log_prob(x), expected, rtol=tol * 10)


def test_jit_apply_matches_eager():
    x = _data()
    model = models.FlowDensity(models.single_scale_glow(num_steps=1, hidden_channels=8))
    variables = model.init(jax.random.PRNGKey(0), x)
    eager = model.apply(variables, x).log_prob(x)
    jitted = jax.jit(lambda v, d: model.apply(v, d).log_prob(d))(variables, x)
    np.testing.assert_allclose(jitted, eager, rtol=1e-5)


def test_apply_with_other_channel_count_raises():
    x = _data()
    model = models.FlowDensity(models.single_scale_glow(num_steps=1, hidden_channels=8))
    variables = model.init(jax.random.PRNGKey(0), x)
    with pytest.raises(flax.errors.ScopeParamShapeError):
        model.apply(variables, _data((4, 8, 8, 3)))


def test_raises_if_unknown_coupling():
    with pytest.raises(ValueError, match="coupling must be one of"):
        models.glow_step(coupling="spline")


@pytest.mark.parametrize("case", ["nan", "empty"])
def test_flow_init_raises_on_a_bad_init_batch(case):
    """Issue 15 item 4: ActNorm's data init from a NaN or empty batch must not
    silently give NaN parameters (log_prob was all NaN)."""
    x = _data((4, 8, 8, 2))
    x = x.at[0, 3, 3, 1].set(jnp.nan) if case == "nan" else x[:0]
    density = models.FlowDensity(
        models.MultiScaleFlow(num_levels=2, steps_per_level=1, hidden_channels=8)
    )
    with pytest.raises(ValueError, match="actnorm: data-dependent init needs"):
        density.init(jax.random.PRNGKey(0), x)
