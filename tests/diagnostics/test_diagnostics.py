"""Stability diagnostics find exploding inverses and pass stable models (seed 004)."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from jinvnet import bijectors, diagnostics, ops
from jinvnet.ops import reversible_stack, revnet
from tests.contract import perturb

X_SHAPE = (2, 4, 4, 4)


def _stack(coupling, scale=0.1, depth=2, dtype=jnp.float32):
    k1, k2 = jax.random.split(jax.random.PRNGKey(0))
    params = reversible_stack.init(
        k1,
        depth,
        lambda k: revnet.init(k, 4, coupling=coupling, hidden_channels=8, dtype=dtype),
    )
    return perturb(params, k2, scale)


def _additive_model():
    return bijectors.ReversibleStack(
        _stack("additive"), block=revnet.additive, memory_saving=False
    )


def _unstable_affine_model():
    """Affine RevNet blocks whose F-scales are s = sigmoid(-28) ~ 7e-13 with shift 1:
    the next block adds O(1) to a half of size 1e-12, and the inverse divides the
    rounding error by s."""
    params = _stack("affine")
    net = params.f.net
    c_b = net.b3.shape[-1] // 2
    net = net._replace(b3=net.b3.at[:, c_b:].set(-30.0).at[:, :c_b].set(1.0))
    params = params._replace(f=params.f._replace(net=net))
    return bijectors.ReversibleStack(params, block=revnet.affine, memory_saving=False)


def _x():
    return jax.random.normal(jax.random.PRNGKey(1), X_SHAPE)


def test_report_flags_the_unstable_affine_model():
    report = diagnostics.stability_report(
        _unstable_affine_model(),
        _x(),
        jax.random.PRNGKey(3),
        attack_steps=2,
        num_power_iterations=10,
    )
    assert report.exploding
    assert not report.errors["data"] < 1.0
    assert not report.inverse_lipschitz < 1e4
    assert any("reconstruction error on data" in flag for flag in report.flags)


def test_report_finds_the_additive_model_stable():
    report = diagnostics.stability_report(
        _additive_model(),
        _x(),
        jax.random.PRNGKey(3),
        attack_steps=2,
        num_power_iterations=10,
    )
    assert not report.exploding, report.flags
    assert set(report.errors) == {
        "data",
        "uniform_noise",
        "constant",
        "rescaled_x10",
        "samples",
        "attack",
    }
    assert all(value < 1e-4 for value in report.errors.values()), report.errors
    assert np.isfinite(report.inverse_lipschitz) and report.inverse_lipschitz < 1e3
    row = report.as_dict()
    assert row["exploding"] == 0.0 and "error/rescaled_x10" in row


def test_power_iteration_matches_dense_singular_values():
    with jax.enable_x64(True):
        params = _stack("affine", scale=0.3, dtype=jnp.float64)
        bij = bijectors.ReversibleStack(
            params, block=revnet.affine, memory_saving=False
        )
        x = jax.random.normal(jax.random.PRNGKey(1), (1, 2, 2, 4), jnp.float64)
        jacobian = jax.jacfwd(lambda v: bij.forward(v.reshape(x.shape)).reshape(-1))(
            x.reshape(-1)
        )
        singular_values = np.linalg.svd(np.asarray(jacobian), compute_uv=False)
        forward, inverse = diagnostics.lipschitz_estimates(
            bij, x, jax.random.PRNGKey(0), num_iterations=200
        )
        np.testing.assert_allclose(forward[0], singular_values.max(), rtol=1e-6)
        np.testing.assert_allclose(inverse[0], 1.0 / singular_values.min(), rtol=1e-6)


def test_power_iteration_through_wide_coupling_networks():
    """Coupling nets >= 64 channels wide use the GEMM convolution on CPU, which has
    no forward-mode rule; the estimate still runs and matches the dense SVD (the
    Jacobian by reverse mode, which the GEMM convolution has)."""
    with jax.enable_x64(True):
        key = jax.random.PRNGKey(0)
        params = ops.affine_coupling.init(key, 4, hidden_channels=64, dtype=jnp.float64)
        params = perturb(params, jax.random.PRNGKey(1), 0.1)
        bij = bijectors.AffineCoupling(params)
        x = jax.random.normal(jax.random.PRNGKey(2), (1, 3, 3, 4), jnp.float64)
        flat = lambda f, at: lambda v: f(v.reshape(at.shape)).reshape(-1)  # noqa: E731
        singular_values = {
            name: np.linalg.svd(
                np.asarray(jax.jacrev(flat(f, at))(at.reshape(-1))), compute_uv=False
            )
            for name, f, at in (
                ("forward", bij.forward, x),
                ("inverse", bij.inverse, bij.forward(x)),
            )
        }
        forward, inverse = diagnostics.lipschitz_estimates(
            bij, x, jax.random.PRNGKey(3), num_iterations=300
        )
        np.testing.assert_allclose(
            forward[0], singular_values["forward"].max(), rtol=1e-5
        )
        np.testing.assert_allclose(
            inverse[0], singular_values["inverse"].max(), rtol=1e-5
        )


def test_power_iteration_is_per_example():
    scales = jnp.array([2.0, 5.0])[:, None, None, None]
    estimate = diagnostics.largest_singular_value(
        lambda v: scales * v, jnp.ones((2, 2, 2, 1)), jax.random.PRNGKey(0)
    )
    np.testing.assert_allclose(estimate, [2.0, 5.0], rtol=1e-6)


def test_reconstruction_error_is_zero_for_an_exact_bijector():
    error = diagnostics.reconstruction_error(bijectors.Squeeze(), _x())
    np.testing.assert_array_equal(error, np.zeros(2))


def test_ood_inputs_have_the_data_shape_and_range():
    x = _x()
    inputs = diagnostics.ood_inputs(jax.random.PRNGKey(0), x)
    assert set(inputs) == {"uniform_noise", "constant", "rescaled_x10"}
    for value in inputs.values():
        assert value.shape == x.shape and value.dtype == x.dtype
    assert float(inputs["uniform_noise"].min()) >= float(x.min())
    assert float(jnp.ptp(inputs["constant"][0])) == 0.0
    np.testing.assert_allclose(inputs["rescaled_x10"], 10 * x)


def test_sample_reconstruction_error_flags_exploding_sampling():
    error = diagnostics.sample_reconstruction_error(
        _unstable_affine_model(), jax.random.PRNGKey(0), X_SHAPE
    )
    assert not np.all(error < 1e-3)


def test_attack_stays_in_the_ball_and_never_lowers_the_error():
    bij = bijectors.ReversibleStack(
        _stack("affine", scale=0.3), block=revnet.affine, memory_saving=False
    )
    x = _x()
    result = diagnostics.invertibility_attack(
        bij, x, jax.random.PRNGKey(0), radius=0.5, num_steps=5
    )
    distance = jnp.sqrt(jnp.sum((result.x - x) ** 2, axis=(1, 2, 3)))
    assert np.all(distance <= 0.5 * (1 + 1e-5))
    assert np.all(result.error >= result.initial_error)
    assert result.history.shape == (5, 2)
    assert np.all(np.diff(np.asarray(result.history), axis=0) >= 0)


def test_attack_raises_if_radius_not_positive():
    with pytest.raises(ValueError, match="radius must be positive"):
        diagnostics.invertibility_attack(
            bijectors.Squeeze(), _x(), jax.random.PRNGKey(0), radius=0.0
        )


def test_gradient_angle():
    a = {"w": jnp.array([1.0, 0.0]), "b": jnp.array([0.0])}
    b = {"w": jnp.array([1.0, 1.0]), "b": jnp.array([0.0])}
    np.testing.assert_allclose(diagnostics.gradient_angle(a, b), 45.0, rtol=1e-5)
    np.testing.assert_allclose(diagnostics.gradient_angle(a, a), 0.0, atol=1e-6)
    assert np.isnan(
        diagnostics.gradient_angle(
            a, {"w": jnp.array([jnp.nan, 0.0]), "b": jnp.array([0.0])}
        )
    )
    with pytest.raises(ValueError, match="same tree structure"):
        diagnostics.gradient_angle(a, {"w": a["w"]})
