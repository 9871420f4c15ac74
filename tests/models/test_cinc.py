"""Tests for the CInC Flax module."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from jinvnet import bijectors, models
from jinvnet.ops import cinc
from tests.conftest import roundoff


@pytest.mark.parametrize("unit_diagonal", [False, True])
def test_init_apply_round_trip_and_parameter_count(unit_diagonal):
    x = jax.random.normal(jax.random.PRNGKey(0), (2, 6, 6, 4))
    module = models.CInCConv(unit_diagonal=unit_diagonal)
    variables = module.init(jax.random.PRNGKey(1), x)
    bij = module.apply(variables, jax.ShapeDtypeStruct(x.shape, x.dtype))
    assert isinstance(bij, bijectors.CInCConv) and bij.method == "fast"
    names = set(variables["params"])
    assert names == ({"kernel"} if unit_diagonal else {"kernel", "log_diag"})
    y, log_det = bij.forward_and_log_det(x)
    # Near the identity at initialisation: fan-in scaled taps (std 0.1 / sqrt(9 c))
    # perturb each output by ~0.1 of the input's rms.
    ratio = float(jnp.sqrt(jnp.mean((y - x) ** 2) / jnp.mean(x**2)))
    assert 0.02 < ratio < 0.2
    np.testing.assert_allclose(bij.inverse(y), x, rtol=0, atol=roundoff(x.dtype, x))
    if unit_diagonal:
        np.testing.assert_array_equal(log_det, 0.0)
    # init leaves the masked kernel entries at zero: the rest are the free ones.
    free = sum(int(np.count_nonzero(v)) for v in variables["params"].values())
    assert free == cinc.num_parameters(4, unit_diagonal=unit_diagonal)


def test_method_is_passed_to_the_bijector():
    x = jax.random.normal(jax.random.PRNGKey(2), (1, 4, 4, 2))
    module = models.CInCConv(method="scan")
    bij = module.apply(module.init(jax.random.PRNGKey(3), x), x)
    assert bij.method == "scan"
    atol = roundoff(x.dtype, x)
    np.testing.assert_allclose(bij.inverse(bij.forward(x)), x, rtol=0, atol=atol)


def test_raises_if_unknown_method():
    params = cinc.init(jax.random.PRNGKey(4), 2)
    with pytest.raises(ValueError, match="method must be one of"):
        bijectors.CInCConv(params, method="newton")
