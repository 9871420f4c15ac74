"""Tests for the i-ConvNet classifier, its invertible features, and the FFT flow."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from jinvnet import models
from jinvnet.models import iconvnet
from jinvnet.ops import fft_conv
from tests.conftest import roundoff
from tests.training import train_losses

KEY = jax.random.PRNGKey(0)


def _tiny(rung, **kwargs):
    return models.IConvNet(
        num_classes=3,
        num_stages=1,
        layers_per_stage=2,
        padding=rung.padding,
        activation=rung.activation,
        downsampling=rung.downsampling,
        **kwargs,
    )


@pytest.mark.parametrize(
    "rung", iconvnet.PATH_TO_INVERTIBILITY, ids=lambda r: r.downsampling + r.padding
)
def test_every_rung_gives_finite_logits_and_gradients(rung):
    x = jax.random.normal(KEY, (2, 8, 8, 2))
    model = _tiny(rung)
    variables = model.init(KEY, x)
    logits = model.apply(variables, x)
    assert logits.shape == (2, 3) and np.all(np.isfinite(logits))
    grads = jax.grad(lambda v: jnp.sum(model.apply(v, x) ** 2))(variables)
    assert all(np.all(np.isfinite(g)) for g in jax.tree_util.tree_leaves(grads))
    assert model.invertible == (rung.downsampling != "maxpool")


@pytest.mark.parametrize("downsampling", ["checkerboard", "irevnet", "iavgpool"])
def test_invertible_features_round_trip_and_log_det(downsampling):
    x = jax.random.normal(KEY, (2, 8, 8, 1))
    model = models.IConvNet(
        num_classes=3, num_stages=1, layers_per_stage=1, downsampling=downsampling
    )
    variables = model.init(KEY, x)
    bijector = model.apply(variables, x, method=models.IConvNet.feature_extractor)
    features, log_det = bijector.forward_and_log_det(x)
    assert features.shape == (2, 4, 4, 4)
    atol = roundoff(jnp.float32, x, ulps=1024)  # a whole model, TESTING.md #3
    np.testing.assert_allclose(bijector.inverse(features), x, rtol=0, atol=atol)
    jacobian = jax.jacfwd(lambda v: bijector.forward(v.reshape(8, 8, 1)).reshape(-1))(
        x[0].reshape(-1)
    )
    _, expected = np.linalg.slogdet(np.asarray(jacobian, np.float64))
    np.testing.assert_allclose(log_det[0], expected, rtol=1e-4)
    logits = model.apply(variables, x)
    head = variables["params"]["head"]
    expected_logits = features.mean((1, 2)) @ head["kernel"] + head["bias"]
    atol = roundoff(jnp.float32, expected_logits)
    np.testing.assert_allclose(logits, expected_logits, rtol=0, atol=atol)


def test_circular_padding_conv_is_the_fft_conv():
    params = fft_conv.init(KEY, 3, kernel_size=3, init_scale=0.3)
    x = jax.random.normal(KEY, (2, 5, 6, 3))
    # Round-off relative to the bound max |x| * max_o sum |kernel[..., o]| on |y|.
    gain = float(jnp.max(jnp.sum(jnp.abs(params.kernel), axis=(0, 1, 2))))
    np.testing.assert_allclose(
        iconvnet._conv(x, params.kernel, "circular"),
        fft_conv.forward(params, x)[0],
        rtol=0,
        atol=roundoff(jnp.float32, np.abs(x).max() * gain),
    )


def test_feature_extractor_raises_if_not_invertible():
    rung = iconvnet.PATH_TO_INVERTIBILITY[0]
    x = jnp.ones((1, 8, 8, 1))
    model = _tiny(rung)
    variables = model.init(KEY, x)
    with pytest.raises(ValueError, match="only with"):
        model.apply(variables, x, method=models.IConvNet.feature_extractor)


def test_raises_if_unknown_switch():
    with pytest.raises(ValueError, match="padding must be one of"):
        models.IConvNet(padding="reflect").init(KEY, jnp.ones((1, 8, 8, 1)))
    with pytest.raises(ValueError, match="downsampling must be one of"):
        models.iconvnet_flow(downsampling="maxpool")


@pytest.mark.parametrize("downsampling", ["checkerboard", "irevnet", "iavgpool"])
def test_flow_log_prob_is_change_of_variables(downsampling):
    x = jax.random.uniform(KEY, (2, 6, 6, 1))
    flow_module = models.iconvnet_flow(
        num_levels=1, steps_per_level=1, downsampling=downsampling
    )
    density = models.FlowDensity(flow_module)
    variables = density.init(KEY, x)
    dist = density.apply(variables, x)
    flow = flow_module.apply({"params": variables["params"]["flow"]}, x)
    z, log_det = flow.forward_and_log_det(x)
    assert z.shape == (2, 3, 3, 4)
    jacobian = jax.jacfwd(lambda v: flow.forward(v.reshape(6, 6, 1)).reshape(-1))(
        x[0].reshape(-1)
    )
    _, dense = np.linalg.slogdet(np.asarray(jacobian, np.float64))
    np.testing.assert_allclose(log_det[0], dense, rtol=1e-4)
    base = -0.5 * jnp.sum(z**2, (1, 2, 3)) - 0.5 * 36 * np.log(2 * np.pi)
    np.testing.assert_allclose(dist.log_prob(x), base + log_det, rtol=1e-5)
    atol = roundoff(jnp.float32, x, ulps=128)  # one level, one step
    np.testing.assert_allclose(flow.inverse(z), x, rtol=0, atol=atol)


def test_flow_trains_a_few_steps():
    x = jax.random.uniform(KEY, (8, 6, 6, 1)) - 0.5
    density = models.FlowDensity(models.iconvnet_flow(num_levels=1, steps_per_level=2))
    losses = train_losses(density, "density", {"image": x}, steps=5, learning_rate=1e-2)
    assert np.all(np.isfinite(losses)) and losses[-1] < losses[0]
