"""Tests for the quad coupling Flax module."""

import jax
import numpy as np
import pytest

from jinvnet import bijectors, models
from tests.conftest import roundoff


def test_init_apply_round_trip():
    x = jax.random.normal(jax.random.PRNGKey(0), (2, 4, 4, 8))
    module = models.QuadCoupling(hidden_channels=8)
    variables = module.init(jax.random.PRNGKey(1), x)
    assert len(variables["params"]) == 18  # 3 conditioners x 6 arrays
    bij = module.apply(variables, jax.ShapeDtypeStruct(x.shape, x.dtype))
    assert isinstance(bij, bijectors.QuadCoupling)
    y, log_det = bij.forward_and_log_det(x)
    np.testing.assert_allclose(bij.inverse(y), x, rtol=0, atol=roundoff(x.dtype, x))
    np.testing.assert_allclose(log_det, 3 * 32 * np.log(jax.nn.sigmoid(2.0)), rtol=1e-5)


def test_raises_if_channels_not_divisible_by_4():
    x = jax.numpy.ones((1, 4, 4, 6))
    with pytest.raises(ValueError, match="multiple of 4"):
        models.QuadCoupling(hidden_channels=8).init(jax.random.PRNGKey(2), x)
