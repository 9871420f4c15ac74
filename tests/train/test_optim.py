"""optax chains: warm-up schedule, clipping, optimiser choice, errors."""

import jax.numpy as jnp
import numpy as np
import pytest

from jinvnet import train
from jinvnet.train import configs, optim


def _optim(**changes):
    config = configs.base().optim
    for key, value in changes.items():
        config[key] = value
    return config


def test_linear_warmup_then_constant():
    schedule = optim.learning_rate_schedule(
        _optim(learning_rate=1e-3, warmup_steps=10), 100
    )
    np.testing.assert_allclose(
        [schedule(0), schedule(5), schedule(10), schedule(90)],
        [0.0, 5e-4, 1e-3, 1e-3],
        rtol=1e-6,
    )


@pytest.mark.parametrize("decay", ["constant", "cosine"])
def test_no_warmup_starts_at_full_rate(decay):
    schedule = optim.learning_rate_schedule(
        _optim(learning_rate=1e-3, warmup_steps=0, decay=decay), 100
    )
    np.testing.assert_allclose(schedule(0), 1e-3, rtol=1e-6)


def test_cosine_decays_to_zero():
    schedule = optim.learning_rate_schedule(
        _optim(learning_rate=1e-3, warmup_steps=10, decay="cosine"), 100
    )
    np.testing.assert_allclose(schedule(10), 1e-3, rtol=1e-6)
    np.testing.assert_allclose(schedule(100), 0.0, atol=1e-9)


@pytest.mark.parametrize("name", ["adam", "adamax", "adamw"])
def test_first_update_is_clipped_and_moves_against_gradient(name):
    optimizer = train.make_optimizer(
        _optim(name=name, warmup_steps=0, grad_clip_norm=1.0), 10
    )
    params = {"w": jnp.zeros(3)}
    grads = {"w": jnp.array([300.0, -400.0, 0.0])}
    updates, _ = optimizer.update(grads, optimizer.init(params), params)
    assert updates["w"][0] < 0 < updates["w"][1] and updates["w"][2] == 0


def test_raises_if_unknown_optimizer():
    with pytest.raises(ValueError, match="optim.name must be one of"):
        train.make_optimizer(_optim(name="sgdx"), 10)


def test_raises_if_unknown_decay():
    with pytest.raises(ValueError, match="optim.decay must be 'constant' or 'cosine'"):
        train.make_optimizer(_optim(decay="step"), 10)
