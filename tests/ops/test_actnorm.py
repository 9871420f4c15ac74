"""ActNorm op: data-dependent init, closed-form log-det, bad input."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from jinvnet.ops import actnorm
from tests.conftest import roundoff


def test_data_init_gives_zero_mean_unit_std():
    x = 3.0 + 2.5 * jax.random.normal(jax.random.PRNGKey(0), (32, 6, 5, 3))
    y, _ = actnorm.forward(actnorm.data_init(x), x)
    # y = (x - 3) / 2.5: the round-off of x, in units of its standard deviation.
    atol = roundoff(jnp.float32, x / 2.5)
    np.testing.assert_allclose(y.mean((0, 1, 2)), 0.0, rtol=0, atol=atol)
    np.testing.assert_allclose(y.std((0, 1, 2)), 1.0, rtol=5e-5)


def test_identity_init_is_identity_with_zero_log_det():
    x = jax.random.normal(jax.random.PRNGKey(1), (2, 4, 4, 3))
    y, log_det = actnorm.forward(actnorm.init(3), x)
    np.testing.assert_array_equal(y, x)
    np.testing.assert_array_equal(log_det, np.zeros(2))


def test_log_det_closed_form():
    params = actnorm.Params(jnp.array([0.1, -0.2]), jnp.array([0.3, -0.7]))
    _, log_det = actnorm.forward(params, jnp.ones((3, 5, 7, 2)))
    np.testing.assert_allclose(log_det, 5 * 7 * (0.3 - 0.7) * np.ones(3), rtol=1e-6)


def test_raises_if_channels_mismatch():
    with pytest.raises(ValueError, match=r"channels 4 != 3"):
        actnorm.forward(actnorm.init(3), jnp.ones((2, 4, 4, 4)))


def test_raises_if_wrong_rank():
    with pytest.raises(ValueError, match="at least 3 dimensions, got shape \\(4, 4\\)"):
        actnorm.forward(actnorm.init(3), jnp.ones((4, 4)))


def test_empty_batch_keeps_shapes():
    y, log_det = actnorm.forward(actnorm.init(3), jnp.ones((0, 4, 4, 3)))
    assert y.shape == (0, 4, 4, 3) and log_det.shape == (0,)


def test_data_init_raises_if_batch_is_empty():
    """An empty batch has no statistics; under jit too (the shape is static)."""
    x = jnp.ones((0, 4, 4, 3))
    with pytest.raises(ValueError, match=r"non-empty batch, got input of shape"):
        actnorm.data_init(x)
    with pytest.raises(ValueError, match=r"non-empty batch"):
        jax.jit(actnorm.data_init)(x)


@pytest.mark.parametrize("bad", [np.nan, np.inf], ids=["nan", "inf"])
def test_data_init_raises_if_batch_is_not_finite(bad):
    x = jax.random.normal(jax.random.PRNGKey(0), (4, 4, 4, 3)).at[1, 2, 3, 0].set(bad)
    with pytest.raises(ValueError, match=r"got 1 non-finite values of 192"):
        actnorm.data_init(x)


def test_data_init_under_jit_gives_nan_not_finite_parameters():
    """A traced batch cannot raise; the documented outcome is NaN, never finite."""
    x = jax.random.normal(jax.random.PRNGKey(0), (4, 4, 4, 3))
    x = x.at[1, 2, 3, 0].set(np.inf)
    params = jax.jit(actnorm.data_init)(x)
    assert not np.isfinite(np.asarray(params.log_scale)[0])
    assert np.isfinite(np.asarray(params.log_scale)[1:]).all()
