"""Non-finite values: propagate by default, raise with `checked`."""

import distrax
import jax.numpy as jnp
import numpy as np
import pytest
from jax.experimental import checkify

from jinvnet import bijectors, ops
from jinvnet.checked import checked


def test_nan_input_propagates_without_checks():
    x = jnp.ones((2, 2, 2, 2)).at[0, 0, 0, 0].set(jnp.nan)
    y, log_det = bijectors.ActNorm(ops.actnorm.init(2)).forward_and_log_det(x)
    assert np.isnan(y[0, 0, 0, 0]) and np.all(np.isfinite(y[1]))


def test_checked_reports_non_finite_input_count():
    x = jnp.ones((2, 2, 2, 2)).at[0, 0, 0, 0].set(jnp.nan).at[1, 1, 1, 1].set(jnp.inf)
    forward = checked(bijectors.ActNorm(ops.actnorm.init(2)).forward_and_log_det)
    with pytest.raises(
        checkify.JaxRuntimeError,
        match=r"input\[0\] contains non-finite values \(2 of 16\)",
    ):
        forward(x)


def test_checked_reports_singular_layer_output():
    singular = bijectors.Conv1x1(
        ops.conv1x1.Params(jnp.array([[1.0, 2.0], [2.0, 4.0]]))
    )
    with pytest.raises(checkify.JaxRuntimeError, match="output"):
        checked(singular.forward_and_log_det)(jnp.ones((1, 2, 2, 2)))


def test_checked_passes_finite_values_through():
    bij = distrax.Chain([bijectors.Squeeze(), bijectors.ActNorm(ops.actnorm.init(1))])
    x = jnp.arange(8.0).reshape(2, 2, 2, 1)
    y, log_det = checked(bij.forward_and_log_det)(x)
    np.testing.assert_array_equal(y, bij.forward(x))
