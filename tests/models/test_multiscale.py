"""Multi-scale flow: one shape-preserving bijector that carries every split latent."""

import distrax
import flax.linen as nn
import jax
import jax.numpy as jnp
import numpy as np
import pytest

from jinvnet import models, ops
from jinvnet.models import multiscale
from tests.conftest import roundoff, tolerance
from tests.contract import perturb


def _trained_like(flow, x, scale=0.05):
    """Initialises `flow` on x, then moves every parameter away from its init."""
    variables = jax.jit(flow.init)(jax.random.PRNGKey(1), x)
    params = perturb(variables["params"], jax.random.PRNGKey(2), scale)
    return {**variables, "params": params}


def _tiny(**kwargs):
    config = dict(num_levels=2, steps_per_level=2, hidden_channels=8)
    return models.MultiScaleFlow(**{**config, **kwargs})


def test_round_trip_carries_every_split_latent(dtype):
    x = jax.random.normal(jax.random.PRNGKey(0), (3, 8, 8, 2), dtype)
    flow = _tiny(num_levels=3, steps_per_level=1)
    variables = _trained_like(flow, x)
    forward = jax.jit(lambda v, x: flow.apply(v, x).forward_and_log_det(x))
    inverse = jax.jit(lambda v, z: flow.apply(v, z).inverse_and_log_det(z))
    z, log_det = forward(variables, x)
    assert z.shape == x.shape and z.dtype == dtype and log_det.shape == (3,)
    x_back, inverse_log_det = inverse(variables, z)
    # A whole flow: 1e-4 relative (about 840 ulps) in float32, TESTING.md #3.
    atol = roundoff(dtype, x, ulps=1024, f64=1e-9)
    np.testing.assert_allclose(x_back, x, rtol=0, atol=atol)
    rtol = tolerance(dtype, 1e-4, 1e-9)
    np.testing.assert_allclose(inverse_log_det, -log_det, rtol=rtol)
    # Latent entries of the last level (pixel (0, 0)), of the second split (pixel
    # (2, 0)) and of the first split (pixel (7, 7)) all reach the image.
    flat = z[0].reshape(-1)
    bumped = jnp.stack([flat.at[i].add(1.0) for i in (0, 32, -1)])
    changed = inverse(variables, bumped.reshape(z.shape))[0] - x_back[0]
    assert bool(jnp.all(jnp.abs(changed).reshape(3, -1).max(axis=1) > 1e-3))


@pytest.mark.parametrize(
    "learned_base, split_prior",
    [(False, True), (True, True), (True, False)],
    ids=["glow", "learned_base", "learned_base_no_split_prior"],
)
def test_log_det_matches_dense_jacobian(dtype, learned_base, split_prior):
    x = jax.random.normal(jax.random.PRNGKey(0), (2, 4, 4, 1), dtype)
    flow = _tiny(steps_per_level=1, learned_base=learned_base, split_prior=split_prior)
    variables = _trained_like(flow, x, scale=0.1)

    @jax.jit
    def log_det_and_jacobian(v, xi):
        bij = flow.apply(v, xi[None])
        flat = lambda u: bij.forward(u.reshape(xi.shape)).reshape(-1)  # noqa: E731
        # Reverse mode: on the CPU the scanned steps' GEMM convolutions have a
        # hand-written VJP and no forward mode (ops.gemm_conv.disabled).
        return bij.forward_log_det_jacobian(xi), jax.jacrev(flat)(xi.reshape(-1))

    for i in range(2):
        log_det, jacobian = log_det_and_jacobian(variables, x[i])
        sign, expected = np.linalg.slogdet(np.asarray(jacobian, np.float64))
        assert sign != 0
        np.testing.assert_allclose(log_det, expected, rtol=tolerance(dtype, 1e-4, 1e-9))


def test_split_prior_is_identity_at_init_and_first_actnorm_whitens():
    x = 0.5 + 0.2 * jax.random.uniform(jax.random.PRNGKey(0), (16, 8, 8, 2))
    flow = _tiny(steps_per_level=1)
    variables = models.unstack_steps(flow.init(jax.random.PRNGKey(1), x))
    assert not np.any(variables["params"]["level0"]["split_prior"]["w3"])
    actnorm = models.ActNorm().apply(
        {"params": variables["params"]["level0"]["step0"]["ActNorm_0"]},
        jax.ShapeDtypeStruct((16, 4, 4, 8), x.dtype),
    )
    y = actnorm.forward(models.Squeeze().apply({}, x).forward(x))
    # y = (x - mean) / std: the round-off of x in units of its std (~0.06).
    atol = roundoff(jnp.float32, x / x.std())
    np.testing.assert_allclose(y.mean((0, 1, 2)), 0.0, rtol=0, atol=atol)


def test_density_log_prob_and_temperature_sampling():
    x = jax.random.normal(jax.random.PRNGKey(0), (4, 4, 4, 1))
    model = models.FlowDensity(_tiny(steps_per_level=1))
    variables = model.init(jax.random.PRNGKey(1), x)
    dist = model.apply(variables, x)
    assert isinstance(dist, distrax.Transformed)
    assert dist.log_prob(x).shape == (4,)
    key = jax.random.PRNGKey(3)
    cold = models.sample(dist, key, 3, temperature=0.0)
    atol = roundoff(jnp.float32, cold, ulps=8)
    np.testing.assert_allclose(
        cold, jnp.broadcast_to(cold[0], cold.shape), rtol=0, atol=atol
    )
    expected = dist.sample(seed=key, sample_shape=3)
    np.testing.assert_allclose(
        models.sample(dist, key, 3, temperature=1.0),
        expected,
        rtol=0,
        atol=roundoff(jnp.float32, expected),
    )
    half = models.sample(dist, key, 3, temperature=0.5)
    latent = dist.bijector.inverse(half)
    full_latent = dist.distribution.sample(seed=key, sample_shape=3)
    atol = roundoff(jnp.float32, full_latent, ulps=1024)  # through the whole flow
    np.testing.assert_allclose(latent, 0.5 * full_latent, rtol=0, atol=atol)


def test_count_params_is_sum_of_leaf_sizes():
    x = jnp.zeros((1, 8, 8, 3))
    # Shapes are all it reads: the abstract init (no compute) is enough.
    variables = jax.eval_shape(_tiny().init, jax.random.PRNGKey(0), x)
    leaves = jax.tree_util.tree_leaves(variables["params"])
    expected = sum(int(np.prod(leaf.shape)) for leaf in leaves)
    assert expected > 0
    assert models.count_params(variables["params"]) == expected


def test_presets_set_architecture():
    flow = multiscale.glow()
    assert (flow.num_levels, flow.steps_per_level, flow.conv, flow.coupling) == (
        3,
        32,
        "1x1",
        "affine",
    )


@pytest.mark.parametrize(
    "name, conv, coupling",
    [
        ("glow", "1x1", "affine"),
        ("emerging", "emerging", "affine"),
        ("cinc", "cinc", "affine"),
        ("cinc_quad", "cinc", "quad"),
    ],
)
def test_presets_are_the_package_level_names(name, conv, coupling):
    """`models.cinc` is the multi-scale preset (its layer lives in cinc_conv)."""
    preset = getattr(models, name)
    assert preset is getattr(multiscale, name)
    flow = preset(num_levels=2)
    assert isinstance(flow, models.MultiScaleFlow)
    assert (flow.num_levels, flow.conv, flow.coupling) == (2, conv, coupling)


def test_raises_if_height_not_divisible():
    with pytest.raises(ValueError, match="height .* must be divisible by 4, got 6"):
        _tiny().init(jax.random.PRNGKey(0), jnp.zeros((1, 6, 8, 3)))


# Every Flax flow, to check that each rejects half precision at init.
_FLOWS = {
    **{
        f"multiscale_{conv}": lambda conv=conv: _tiny(conv=conv, steps_per_level=1)
        for conv in multiscale.CONVS
    },
    "single_scale_glow": lambda: models.single_scale_glow(
        num_steps=1, hidden_channels=8
    ),
    "mintnet": lambda: models.mintnet(num_blocks=2),
    "irevnet": lambda: models.IRevNet(hidden_channels=8),
    "iconvnet_flow": lambda: models.iconvnet_flow(num_levels=1, steps_per_level=1),
}


@pytest.mark.parametrize("half", ["float16", "bfloat16"])
@pytest.mark.parametrize("flow", sorted(_FLOWS))
def test_raises_if_half_precision(flow, half):
    # Before: inf log-dets, float16 compute, or raw TypeError / LAPACK errors.
    x = jnp.zeros((2, 8, 8, 4), half)
    with pytest.raises(ValueError, match=f"got dtype {half}: half precision"):
        models.FlowDensity(_FLOWS[flow]()).init(jax.random.PRNGKey(0), x)


def test_raises_if_unknown_conv():
    with pytest.raises(ValueError, match="conv must be one of"):
        _tiny(conv="5x5").init(jax.random.PRNGKey(0), jnp.zeros((1, 8, 8, 3)))


def test_raises_if_negative_temperature():
    with pytest.raises(ValueError, match="temperature must be >= 0"):
        models.sample(None, jax.random.PRNGKey(0), 1, temperature=-1.0)


def test_free_param_count_of_a_cinc_layer_is_9n2_minus_triangle():
    n = 8
    x = jax.ShapeDtypeStruct((1, 4, 4, n), jnp.float32)
    layer = models.CInCConv()
    params = jax.eval_shape(layer.init, jax.random.PRNGKey(0), x)["params"]
    assert models.count_params(params) == 9 * n * n + n
    assert models.free_param_count(layer, x) == 9 * n * n - n * (n - 1) // 2
    assert models.free_param_count(layer, x) == ops.cinc.num_parameters(n)
    # A whole flow, module names and nesting as MultiScaleFlow makes them: one step
    # has a CInC layer and an LU 1x1 (a triangle and a diagonal per factor).
    flow = _tiny(conv="cinc", num_levels=1, steps_per_level=1)
    x = jnp.zeros((1, 8, 8, 2))
    params = jax.eval_shape(flow.init, jax.random.PRNGKey(0), x)["params"]
    total, free = models.count_params(params), models.free_param_count(flow, x)
    assert total - free == n * (n + 1) // 2 + n * (n + 1)


def test_free_param_count_of_an_emerging_layer_is_seed_003s():
    n = 4
    x = jax.ShapeDtypeStruct((1, 4, 4, n), jnp.float32)
    layer = models.EmergingConv()
    assert models.free_param_count(layer, x) == ops.emerging.num_parameters(n)
    assert models.free_param_count(layer, x) == 10 * n * n - n


def test_free_param_count_does_not_depend_on_module_names():
    # A user's own composition with its own names: the masks still count.
    class Mine(nn.Module):
        @nn.compact
        def __call__(self, x):
            models.CInCConv(name="first")(x)
            return models.Conv1x1LU(name="second")(x)

    n = 3
    x = jax.ShapeDtypeStruct((1, 4, 4, n), jnp.float32)
    expected = ops.cinc.num_parameters(n) + n * n  # the LU 1x1 has n^2 free
    assert models.free_param_count(Mine(), x) == expected


@pytest.mark.parametrize("conv, coupling", [("emerging", "affine"), ("cinc", "quad")])
def test_round_trip_of_emerging_and_quad_flows(conv, coupling):
    x = jax.random.normal(jax.random.PRNGKey(0), (2, 4, 4, 1))
    flow = _tiny(conv=conv, coupling=coupling, steps_per_level=1, inverse_method="scan")
    variables = _trained_like(flow, x)

    @jax.jit
    def round_trip(v, x):
        bij = flow.apply(v, x)
        return bij.inverse(bij.forward(x))

    atol = roundoff(jnp.float32, x, ulps=1024)  # a whole flow, TESTING.md #3
    np.testing.assert_allclose(round_trip(variables, x), x, rtol=0, atol=atol)


def test_logit_alpha_prepends_the_logit_transform():
    """log p(x) = log p_flow(logit(x)) + log|d logit / dx| with the same parameters.

    ActNorm's data init must see logit(x), not x: each channel of the first
    ActNorm's output is standardised on the init batch.
    """
    x = jax.random.uniform(jax.random.PRNGKey(0), (4, 8, 8, 1), jnp.float32, -0.5, 0.5)
    with_logit = models.FlowDensity(_tiny(logit_alpha=1e-3))
    variables = _trained_like(with_logit, x)
    plain = models.FlowDensity(_tiny())
    y, logit_log_det = ops.logit.forward(ops.logit.init(1e-3), x)
    expected = plain.apply(variables, y).log_prob(y) + logit_log_det
    log_prob = with_logit.apply(variables, x).log_prob(x)
    np.testing.assert_allclose(log_prob, expected, rtol=1e-5)

    fresh = models.unstack_steps(jax.jit(with_logit.init)(jax.random.PRNGKey(1), x))
    actnorm = fresh["params"]["flow"]["level0"]["step0"]["ActNorm_0"]
    squeezed = ops.squeeze.forward(y)[0]
    np.testing.assert_allclose(
        actnorm["loc"], -np.mean(squeezed, axis=(0, 1, 2)), rtol=1e-4, atol=1e-5
    )


def test_learned_base_is_a_diagonal_gaussian_over_the_latent():
    """log p(x) = log N(f(x); mu, diag sigma^2) + log|det df/dx|, mu and sigma learned.

    The reference is the plain flow's latent and log-det (same parameters) under a
    diagonal Gaussian written out in numpy.
    """
    x = jax.random.normal(jax.random.PRNGKey(0), (3, 8, 8, 1), jnp.float32)
    with_base = models.FlowDensity(_tiny(learned_base=True))
    variables = _trained_like(with_base, x, scale=0.3)
    base = variables["params"]["flow"]["base"]
    assert base["loc"].shape == base["log_scale"].shape == (8, 8, 1)
    plain = {
        **variables,
        "params": {
            "flow": {
                k: v for k, v in variables["params"]["flow"].items() if k != "base"
            }
        },
    }
    z, log_det = (
        models.FlowDensity(_tiny()).apply(plain, x).bijector.inverse_and_log_det(x)
    )
    mu, sigma = np.asarray(base["loc"]), np.exp(np.asarray(base["log_scale"]))
    gauss = -0.5 * ((np.asarray(z) - mu) / sigma) ** 2 - np.log(
        sigma * np.sqrt(2 * np.pi)
    )
    expected = gauss.reshape(3, -1).sum(1) + np.asarray(log_det)
    np.testing.assert_allclose(
        with_base.apply(variables, x).log_prob(x), expected, rtol=1e-5
    )
    fresh = jax.jit(with_base.init)(jax.random.PRNGKey(1), x)["params"]["flow"]["base"]
    assert not np.any(fresh["loc"]) and not np.any(fresh["log_scale"])  # identity


def test_without_split_prior_the_factored_half_is_not_whitened():
    """split_prior=False is the flow whose split priors are the identity: the same
    latent and log-det as split_prior=True with every prior's output layer at zero
    (mu = 0, sigma = 1), and no prior parameters of its own."""
    x = jax.random.normal(jax.random.PRNGKey(0), (3, 8, 8, 1), jnp.float32)
    without = _tiny(num_levels=3, split_prior=False)
    variables = _trained_like(without, x, scale=0.3)
    assert "split_prior" not in str(jax.tree_util.tree_structure(variables))
    with_prior = _tiny(num_levels=3)
    prior_params = jax.jit(with_prior.init)(jax.random.PRNGKey(3), x)["params"]

    def merge(fresh, trained):  # trained values wherever `without` has the leaf
        if isinstance(fresh, dict):
            return {
                k: merge(v, trained.get(k) if trained else None)
                for k, v in fresh.items()
            }
        return fresh if trained is None else trained

    params = merge(prior_params, variables["params"])
    prior = params["level0"]["split_prior"]
    assert not np.any(prior["w3"]) and not np.any(prior["b3"])  # zero at init
    z, log_det = without.apply(variables, x).forward_and_log_det(x)
    reference = {**variables, "params": params}  # same constants (LU permutations)
    z_ref, log_det_ref = with_prior.apply(reference, x).forward_and_log_det(x)
    np.testing.assert_allclose(z, z_ref, rtol=0, atol=1e-6)
    np.testing.assert_allclose(log_det, log_det_ref, rtol=1e-6)


def test_coupling_init_reaches_every_conditioner():
    x = jax.random.normal(jax.random.PRNGKey(0), (2, 8, 8, 1), jnp.float32)
    params = jax.jit(_tiny(coupling_init="uniform").init)(jax.random.PRNGKey(1), x)
    flat = jax.tree_util.tree_flatten_with_path(models.unstack_steps(params)["params"])[
        0
    ]
    hidden_biases = [
        leaf for path, leaf in flat if "Coupling" in str(path) and "b1" in str(path)
    ]
    assert len(hidden_biases) == 4  # 2 levels x 2 steps
    assert all(np.any(b) for b in hidden_biases)  # uniform: random, not zero
    default = jax.jit(_tiny().init)(jax.random.PRNGKey(1), x)["params"]
    flat = jax.tree_util.tree_flatten_with_path(default)[0]
    assert not any(
        np.any(leaf)
        for path, leaf in flat
        if "Coupling" in str(path) and "b1" in str(path)
    )
    with pytest.raises(ValueError, match="coupling_init must be one of"):
        _tiny(coupling_init="torch").init(jax.random.PRNGKey(0), x)


def test_raises_if_learned_base_is_not_a_bool():
    x = jnp.zeros((1, 8, 8, 1))
    with pytest.raises(ValueError, match="learned_base must be True or False"):
        _tiny(learned_base="yes").init(jax.random.PRNGKey(0), x)
    with pytest.raises(ValueError, match="split_prior must be True or False"):
        _tiny(split_prior=1).init(jax.random.PRNGKey(0), x)


def test_cinc_flow_takes_the_filter_solver_and_matches_the_scan_reference():
    x = jax.random.normal(jax.random.PRNGKey(0), (2, 4, 4, 1))
    filtered = _tiny(conv="cinc", steps_per_level=1, inverse_method="filter")
    variables = _trained_like(filtered, x)
    reference = _tiny(conv="cinc", steps_per_level=1, inverse_method="scan")
    z = filtered.apply(variables, x).forward(x)
    np.testing.assert_allclose(
        filtered.apply(variables, z).inverse(z),
        reference.apply(variables, z).inverse(z),
        rtol=0,
        atol=roundoff(jnp.float32, x, ulps=1024),
    )


def test_raises_if_the_solver_is_not_the_convolutions():
    x = jnp.zeros((1, 8, 8, 1))
    flow = _tiny(conv="emerging", inverse_method="filter")
    with pytest.raises(ValueError, match="inverse_method must be one of .* 'emerging'"):
        flow.init(jax.random.PRNGKey(0), x)


@pytest.mark.parametrize(
    "x, message",
    [
        (jnp.zeros((8, 8, 1)), r"shape \(batch, height, width, channels\), got shape"),
        (jnp.zeros((1, 8, 8, 1), jnp.int32), "int32"),
    ],
)
def test_diagonal_base_raises_if_not_a_floating_batch(x, message):
    with pytest.raises(ValueError, match=message):
        models.DiagonalGaussianBase().init(jax.random.PRNGKey(0), x)
