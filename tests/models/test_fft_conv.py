"""Tests for the FFTConv and downsampling Flax modules."""

import jax
import jax.numpy as jnp
import numpy as np

from jinvnet import bijectors, models
from tests.conftest import roundoff


def test_fft_conv_module_starts_near_an_isometry():
    x = jax.random.normal(jax.random.PRNGKey(0), (2, 6, 5, 4))
    module = models.FFTConv(kernel_size=3, init_scale=0.0, log_det_method="lifting")
    variables = module.init(jax.random.PRNGKey(1), x)
    assert variables["params"]["kernel"].shape == (3, 3, 4, 4)
    bijector = module.apply(variables, jax.ShapeDtypeStruct(x.shape, x.dtype))
    assert isinstance(bijector, bijectors.FFTConv)
    assert bijector.log_det_method == "lifting"
    y, log_det = bijector.forward_and_log_det(x)
    np.testing.assert_allclose(jnp.sum(y**2), jnp.sum(x**2), rtol=1e-5)
    atol = roundoff(jnp.float32, ulps=8 * 6 * 5)  # 6 * 5 blocks log|det A_f| = 0
    np.testing.assert_allclose(log_det, 0.0, rtol=0, atol=atol)


def test_downsampling_modules_return_their_bijectors():
    x = jnp.ones((1, 4, 4, 1))
    for module, kind in (
        (models.Checkerboard(), bijectors.Checkerboard),
        (models.IAvgPool2d(), bijectors.IAvgPool2d),
    ):
        assert isinstance(module.apply({}, x), kind)
