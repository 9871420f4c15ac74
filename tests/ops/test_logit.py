import jax
import jax.numpy as jnp
import numpy as np
import pytest
from scipy import special, stats

from jinvnet import data, models, ops
from jinvnet.train.objectives import Objective


def _numpy_logit(x, alpha):
    p = alpha + (1 - 2 * alpha) * (np.asarray(x, np.float64) + 0.5)
    return np.log(p / (1 - p)), p


@pytest.fixture(autouse=True)
def _float64():
    with jax.enable_x64(True):
        yield


@pytest.mark.parametrize("alpha", [0.0, 1e-6, 0.05])
def test_forward_and_log_det_match_numpy(alpha):
    x = jax.random.uniform(jax.random.PRNGKey(0), (3, 4, 4, 2), jnp.float64, -0.5, 0.5)
    y, log_det = ops.logit.forward(ops.logit.init(alpha, jnp.float64), x)
    y_np, p = _numpy_logit(x, alpha)
    np.testing.assert_allclose(y, y_np, rtol=1e-12, atol=1e-12)
    expected = np.sum(np.log((1 - 2 * alpha) / (p * (1 - p))), axis=(1, 2, 3))
    np.testing.assert_allclose(log_det, expected, rtol=1e-12)
    x_back, inverse_log_det = ops.logit.inverse(ops.logit.init(alpha, jnp.float64), y)
    np.testing.assert_allclose(x_back, x, atol=1e-12)
    np.testing.assert_allclose(inverse_log_det, -expected, rtol=1e-12)


def test_outside_the_domain_gives_nan_not_a_finite_value():
    y, log_det = ops.logit.forward(ops.logit.init(0.0), jnp.full((1, 1, 1), 0.7))
    assert np.isnan(y).all() and np.isnan(log_det).all()


@pytest.mark.parametrize("alpha", [-0.1, 0.5, 1.0])
def test_init_rejects_alpha_outside_range(alpha):
    with pytest.raises(ValueError, match=r"alpha must lie in \[0, 1/2\)"):
        ops.logit.init(alpha)


def _logit_normal_density(x, alpha):
    """Density of x = (sigmoid(z) - alpha) / (1 - 2 alpha) - 1/2, z ~ N(0, 1)."""
    y, p = _numpy_logit(x, alpha)
    return stats.norm.pdf(y) * (1 - 2 * alpha) / (p * (1 - p))


@pytest.mark.parametrize("alpha", [1e-6, 0.05])
def test_bits_per_dim_with_logit_matches_pixel_space(alpha):
    """Logit + N(0, I) base through FlowDensity and the trainer's objective.

    Reference: the closed-form logit-normal density in pixel space (numpy, float64),
    and bits/dim = -mean log2 density + log2 K. Checks that the density
    integrates over [-1/2, 1/2] to the base mass in [logit(alpha), logit(1 - alpha)],
    that its bin average is the exact bin mass (normal CDF) and that the dequantised
    bound sits above the exact discrete NLL keep the reference honest.
    """
    num_bins = 256
    x = jax.random.uniform(jax.random.PRNGKey(1), (5, 2, 2, 1), jnp.float64, -0.5, 0.5)
    model = models.FlowDensity(models.Logit(alpha))
    variables = model.init(jax.random.PRNGKey(0), x)
    terms = Objective("density", num_bins)(model, variables, {"image": x}, None)
    density = _logit_normal_density(x, alpha).reshape(5, -1)
    expected = -np.mean(np.log2(density), axis=1) + np.log2(num_bins)
    np.testing.assert_allclose(terms["bits_per_dim"], expected, rtol=1e-10)

    grid = np.linspace(-0.5, 0.5, 200001)
    # y ranges over [logit(alpha), logit(1 - alpha)]: the base mass outside is lost.
    inside = special.ndtr(-special.logit(alpha)) - special.ndtr(special.logit(alpha))
    integral = np.trapezoid(_logit_normal_density(grid, alpha), grid)
    np.testing.assert_allclose(integral, inside, rtol=1e-6)

    edges = np.arange(num_bins + 1) / num_bins - 0.5
    bin_mass = np.diff(special.ndtr(_numpy_logit(edges, alpha)[0]))
    pixel = 3  # a low bin, where the density is far from flat
    u = (pixel + np.linspace(0, 1, 1001)[:-1] + 5e-4) / num_bins - 0.5
    u = jnp.asarray(u.reshape(-1, 1, 1, 1))
    log_prob = np.asarray(model.apply(variables, u).log_prob(u))
    np.testing.assert_allclose(
        np.mean(np.exp(log_prob)) / num_bins, bin_mass[pixel], rtol=1e-6
    )  # midpoint rule over the bin
    bound = np.mean(data.bits_per_dim(log_prob, 1, num_bins))
    assert -np.log2(bin_mass[pixel]) <= bound  # dequantisation bound (Jensen)
