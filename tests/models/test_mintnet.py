"""Tests for the MintNet flow, presets and classifier (seed 002)."""

import distrax
import jax
import jax.numpy as jnp
import numpy as np
import pytest

from jinvnet import bijectors, models
from jinvnet.data import dequantize, digits
from tests.training import train_losses


def _digits(n=32):
    dataset = digits()
    batch = dataset.train.get(np.arange(n))
    return jnp.asarray(dequantize(batch["image"], dataset.num_bins, None)), batch[
        "label"
    ]


def test_flow_round_trip_and_log_prob_shapes():
    x, _ = _digits(4)
    flow = models.mintnet(num_blocks=2, num_groups=2, num_squeezes=1)
    variables = flow.init(jax.random.PRNGKey(0), x)
    bij = flow.apply(variables, x)
    z, log_det = bij.forward_and_log_det(x)
    assert z.shape == (4, 4, 4, 4) and log_det.shape == (4,)
    x_back, results = bijectors.invert_with_diagnostics(bij, z)
    assert len(results) == 4 and all(bool(r.converged.all()) for r in results)
    np.testing.assert_allclose(x_back, x, atol=1e-4)  # TESTING.md #3: whole flow, f32
    density = models.FlowDensity(models.mintnet(num_blocks=2, num_groups=2))
    dist = density.apply(density.init(jax.random.PRNGKey(0), x), x)
    assert isinstance(dist, distrax.Transformed) and dist.log_prob(x).shape == (4,)


def test_anderson_memory_reaches_every_layer():
    """mintnet(anderson_memory=3): every layer's inverse mixes (the iterates differ
    from Algorithm 1's after 2 steps; the first step is the same) and the flow still
    inverts to its input."""
    x, _ = _digits(4)
    options = dict(num_blocks=2, num_groups=2, init_scale=0.5, num_steps=2)
    plain = models.mintnet(**options)
    mixed = models.mintnet(**options, anderson_memory=3)
    variables = plain.init(jax.random.PRNGKey(0), x)
    z = plain.apply(variables, x).forward(x)
    _, plain_results = bijectors.invert_with_diagnostics(plain.apply(variables, x), z)
    _, mixed_results = bijectors.invert_with_diagnostics(mixed.apply(variables, x), z)
    for a, b in zip(plain_results, mixed_results):
        assert not np.array_equal(a.x, b.x)
    tolerance_loop = models.mintnet(
        num_blocks=2, num_groups=2, init_scale=0.5, anderson_memory=3
    )
    x_back = tolerance_loop.apply(variables, x).inverse(z)
    np.testing.assert_allclose(x_back, x, atol=1e-4)


def test_squeezes_are_spread_over_the_blocks():
    flow = models.mintnet(num_blocks=6, num_squeezes=2)
    kinds = [type(layer).__name__ for layer in flow.layers]
    assert (
        kinds
        == ["Sequential"] * 2
        + ["Squeeze"]
        + ["Sequential"] * 2
        + ["Squeeze"]
        + ["Sequential"] * 2
    )


def test_presets_have_the_paper_sizes():
    assert (
        models.mintnet_preset("mnist").layers.__len__() == 22
    )  # 20 blocks + 2 squeezes
    cifar = models.mintnet_preset("cifar10")
    assert len(cifar.layers) == 18
    assert cifar.layers[0].layers[0].num_groups == 85
    assert len(models.mintnet_preset("imagenet32").layers) == 23


def test_raises_if_more_squeezes_than_blocks():
    with pytest.raises(ValueError, match="num_squeezes"):
        models.mintnet(num_blocks=2, num_squeezes=2)
    with pytest.raises(ValueError, match="unknown preset"):
        models.mintnet_preset("svhn")


def test_density_loss_decreases_on_digits():
    x, _ = _digits()
    model = models.FlowDensity(
        models.mintnet(num_blocks=1, num_groups=2, num_squeezes=0)
    )
    losses = train_losses(
        model, "density", {"image": x}, steps=6, learning_rate=3e-3, num_bins=17
    )
    assert np.all(np.isfinite(losses)) and losses[-1] < losses[0] - 0.02  # bits/dim


def test_classifier_loss_decreases_on_digits():
    x, labels = _digits()
    model = models.MintNetClassifier(num_blocks=1, num_squeezes=0, pad_channels=4)
    batch = {"image": x, "label": labels}
    losses = train_losses(model, "classification", batch, steps=6, learning_rate=3e-3)
    assert np.all(np.isfinite(losses)) and losses[-1] < losses[0]


def test_classifier_raises_if_too_many_channels():
    model = models.MintNetClassifier(pad_channels=2)
    with pytest.raises(ValueError, match="pad_channels=2"):
        model.init(jax.random.PRNGKey(0), jnp.zeros((1, 8, 8, 3)))


def test_flow_inverse_and_samples_are_nan_where_a_layer_does_not_converge():
    """The NaN rule through the Flax stack: an init_scale=8 layer does not converge
    (residual 1.5..6.5, iterate 17..34 away from x); no finite garbage comes out of
    the flow's inverse or of samples drawn from the density."""
    x, _ = _digits(4)
    flow = models.mintnet(num_blocks=1, num_groups=2, num_squeezes=0, init_scale=8.0)
    variables = flow.init(jax.random.PRNGKey(0), x)
    bij = flow.apply(variables, x)
    z = bij.forward(x)
    iterate, results = bijectors.invert_with_diagnostics(bij, z)
    assert not np.asarray(results[-1].converged).any()
    assert np.all(np.abs(np.asarray(iterate - x)).max(axis=(1, 2, 3)) > 1.0)
    assert np.isnan(np.asarray(jax.jit(bij.inverse)(z))).all()
    density = models.FlowDensity(flow)
    dist = density.apply({"params": {"flow": variables["params"]}}, x)
    samples = np.asarray(dist.sample(seed=jax.random.PRNGKey(1), sample_shape=(4,)))
    assert np.isnan(samples).any(axis=(1, 2, 3)).all()
