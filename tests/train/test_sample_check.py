import json
import logging

import distrax
import flax.linen as nn
import jax
import jax.numpy as jnp
import numpy as np
import pytest

from jinvnet import models, train
from jinvnet.train import sample_check
from tests.train._tiny import small_digits, tiny_config

SHAPE = (2, 2, 1)


def _latents(key, temperature, num_draws, batch_size):
    """The latents check_samples draws, rebuilt independently: batch i uses fold_in."""
    batches = [
        temperature
        * jax.random.normal(jax.random.fold_in(key, i), (batch_size, *SHAPE))
        for i in range(-(-num_draws // batch_size))
    ]
    return np.concatenate(batches)[:num_draws].reshape(num_draws, -1)


def _elementwise(forward, inverse):
    return distrax.Block(distrax.Lambda(forward=forward, inverse=inverse), 3)


def test_counts_samples_whose_inverse_is_not_finite():
    # f = tanh: sampling runs arctanh, which is NaN wherever |T z| > 1.
    flow = _elementwise(jnp.tanh, jnp.arctanh)
    key = jax.random.PRNGKey(3)
    check = sample_check.check_samples(
        flow, SHAPE, key, 0.7, num_draws=300, batch_size=128, keep=10
    )
    z = _latents(key, 0.7, 300, 128)
    expected = int(np.sum(np.any(np.abs(z) > 1, axis=1)))
    assert 0 < expected < 300
    assert check.nonfinite == expected and check.unstable == expected
    assert check.images.shape == (10, *SHAPE) and check.num_draws == 300
    summary = check.as_dict()
    assert summary["samples_nonfinite_T0.7"] == expected
    assert f"{expected} of 300 samples at temperature 0.7" in check.warning()


def test_counts_finite_samples_that_fail_the_round_trip():
    # A wrong "inverse" shifts entries with |z| > 2: finite, but f(g(z)) != z.
    flow = _elementwise(lambda x: x, lambda z: z + (jnp.abs(z) > 2.0))
    key = jax.random.PRNGKey(4)
    check = sample_check.check_samples(flow, SHAPE, key, 1.0, num_draws=500)
    z = _latents(key, 1.0, 500, 256)
    shifted = np.sum(np.abs(z) > 2, axis=1)
    expected_errors = np.sqrt(shifted) / np.maximum(np.linalg.norm(z, axis=1), 1.0)
    assert check.nonfinite == 0
    assert check.unstable == int(np.sum(shifted > 0)) > 0
    np.testing.assert_allclose(check.max_round_trip_error, expected_errors.max(), 1e-5)


def test_healthy_flow_reports_nothing():
    flow = _elementwise(lambda x: 2.0 * x + 1.0, lambda y: (y - 1.0) / 2.0)
    check = sample_check.check_samples(flow, SHAPE, jax.random.PRNGKey(0), 1.0)
    assert (check.nonfinite, check.unstable, check.warning()) == (0, 0, None)
    assert check.max_round_trip_error < 1e-6
    # g(z) = (z - 1) / 2 has Lipschitz constant 1/2 everywhere.
    x = jax.random.normal(jax.random.PRNGKey(1), (3, *SHAPE))
    lipschitz = sample_check.inverse_lipschitz(flow, x, jax.random.PRNGKey(2))
    np.testing.assert_allclose(lipschitz, 0.5, rtol=1e-5)


def test_lipschitz_is_nan_with_a_warning_when_the_inverse_is_reverse_mode_only():
    @jax.custom_vjp
    def halve(y):
        return y / 2.0

    halve.defvjp(lambda y: (y / 2.0, None), lambda _, g: (g / 2.0,))
    flow = _elementwise(lambda x: 2.0 * x, halve)
    x = jax.random.normal(jax.random.PRNGKey(1), (3, *SHAPE))
    with pytest.warns(UserWarning, match="no forward-mode derivative"):
        lipschitz = sample_check.inverse_lipschitz(flow, x, jax.random.PRNGKey(2))
    assert np.isnan(lipschitz)


class _TanhDensity(nn.Module):
    """A density with data-to-latent map f(x) = 3 tanh(s x) / s, s trained.

    Sampling runs f^{-1}(z) = arctanh(s z / 3) / s, NaN wherever |s z| >= 3: a model
    whose samples explode although training on data in [-1/2, 1/2) is finite.
    """

    @nn.compact
    def __call__(self, x):
        s = 1.0 + self.param("s", lambda _: jnp.zeros(()))
        flow = _elementwise(
            lambda v: 3 * jnp.tanh(s * v) / s, lambda z: jnp.arctanh(s * z / 3) / s
        )
        return distrax.Transformed(
            models.standard_normal(x.shape[1:]), distrax.Inverse(flow)
        )


def test_trainer_warns_and_records_exploding_samples(tmp_path, caplog):
    config = tiny_config(num_steps=2, figures=True)
    config.train.sample_check_draws = 256
    with caplog.at_level(logging.WARNING):
        summary = train.train_and_evaluate(
            config,
            str(tmp_path),
            dataset=small_digits(),
            model=_TanhDensity(),
            progress=False,
        )
    saved = json.loads((tmp_path / "summary.json").read_text())
    nonfinite = saved["samples_nonfinite_T1.0"]
    assert saved["samples_drawn_T1.0"] == 256
    assert 0 < nonfinite < 256 and saved["samples_unstable_T1.0"] >= nonfinite
    assert summary["samples_nonfinite_T1.0"] == nonfinite
    assert (
        f"{nonfinite} of 256 samples at temperature 1.0 are non-finite" in caplog.text
    )
    # d/dz arctanh(z / 3) = 1 / (3 (1 - (z/3)^2)), in [1/3, 4/9] for |z / 3| <= 1/2.
    assert 0.3 < saved["inverse_lipschitz"] < 0.5
