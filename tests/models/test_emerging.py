"""Tests for the emerging-convolution Flax module."""

import jax
import numpy as np

from jinvnet import bijectors, models
from jinvnet.ops import emerging
from tests.conftest import roundoff


def test_init_apply_round_trip_and_parameter_count():
    x = jax.random.normal(jax.random.PRNGKey(0), (2, 6, 6, 4))
    module = models.EmergingConv(method="scan")
    variables = module.init(jax.random.PRNGKey(1), x)
    assert set(variables["constants"]) == {"permutation", "sign"}
    bij = module.apply(variables, jax.ShapeDtypeStruct(x.shape, x.dtype))
    assert isinstance(bij, bijectors.EmergingConv) and bij.method == "scan"
    y = bij.forward(x)
    np.testing.assert_allclose(bij.inverse(y), x, rtol=0, atol=roundoff(x.dtype, x))
    # Masked entries start at zero, LU factors are stored strictly triangular.
    p = variables["params"]
    free = (
        np.count_nonzero(p["causal"])
        + np.count_nonzero(p["anticausal"])
        + np.count_nonzero(np.tril(p["lower"], -1))
        + np.count_nonzero(np.triu(p["upper"], 1))
        + p["log_scale"].size
    )
    assert free == emerging.num_parameters(4) == 10 * 16 - 4
