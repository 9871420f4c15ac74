"""Bi-directional finite-difference penalty and the hybrid NF loss (seed 004)."""

import distrax
import jax
import jax.numpy as jnp
import numpy as np
import optax
import pytest

from jinvnet import bijectors, regularization
from jinvnet.models import standard_normal
from jinvnet.ops import conv1x1, reversible_stack, revnet
from tests.contract import perturb


def _x(dtype=jnp.float32):
    return jax.random.normal(jax.random.PRNGKey(1), (3, 2, 2, 4), dtype)


def test_penalty_is_two_for_an_isometry(dtype):
    rotation = conv1x1.init(jax.random.PRNGKey(0), 4, dtype=dtype)  # a random rotation
    penalty = regularization.finite_difference_penalty(
        bijectors.Conv1x1(rotation), _x(dtype), jax.random.PRNGKey(2)
    )
    np.testing.assert_allclose(
        penalty, 2.0, rtol=1e-5 if dtype == jnp.float32 else 1e-10
    )


@pytest.mark.parametrize("scale", [0.5, 3.0])
def test_penalty_exceeds_isometry_for_a_scaling(scale):
    bij = bijectors.Conv1x1(conv1x1.Params(weight=scale * jnp.eye(4)))
    penalty = regularization.finite_difference_penalty(bij, _x(), jax.random.PRNGKey(2))
    np.testing.assert_allclose(penalty, scale**2 + scale**-2, rtol=1e-5)
    assert penalty > 2.0


def test_penalty_weights_and_finite_gradient():
    k1, k2 = jax.random.split(jax.random.PRNGKey(0))
    params = perturb(
        reversible_stack.init(
            k1, 2, lambda k: revnet.init(k, 4, coupling="affine", hidden_channels=8)
        ),
        k2,
        0.2,
    )

    def penalty(p, forward_weight, inverse_weight):
        bij = bijectors.ReversibleStack(p, block=revnet.affine)
        return regularization.finite_difference_penalty(
            bij,
            _x(),
            jax.random.PRNGKey(2),
            forward_weight=forward_weight,
            inverse_weight=inverse_weight,
        )

    both = penalty(params, 1.0, 1.0)
    np.testing.assert_allclose(
        both, penalty(params, 1.0, 0.0) + penalty(params, 0.0, 1.0), rtol=1e-5
    )
    grads = jax.grad(penalty)(params, 1.0, 1.0)
    leaves = jax.tree_util.tree_leaves(grads)
    assert all(np.all(np.isfinite(g)) for g in leaves)
    assert any(np.any(g != 0) for g in leaves)


def test_penalty_raises_if_epsilon_not_positive():
    with pytest.raises(ValueError, match="epsilon must be positive"):
        regularization.finite_difference_penalty(
            bijectors.Squeeze(), _x(), jax.random.PRNGKey(0), epsilon=0.0
        )


def test_flow_nll_matches_distrax():
    bij = bijectors.Conv1x1(
        perturb(conv1x1.init(jax.random.PRNGKey(0), 4), jax.random.PRNGKey(1), 0.3)
    )
    x = _x()
    latent, log_det = bij.forward_and_log_det(x)
    density = distrax.Transformed(standard_normal(x.shape[1:]), distrax.Inverse(bij))
    expected = -density.log_prob(x) / x[0].size
    np.testing.assert_allclose(
        regularization.flow_nll_per_dim(latent, log_det), expected, rtol=1e-5
    )


def test_hybrid_loss_adds_weighted_nll():
    logits = jax.random.normal(jax.random.PRNGKey(0), (3, 5))
    labels = jnp.array([0, 3, 4])
    latent, log_det = _x(), jnp.array([0.1, -0.2, 0.3])
    cross_entropy = optax.softmax_cross_entropy_with_integer_labels(
        logits, labels
    ).mean()
    nll = regularization.flow_nll_per_dim(latent, log_det).mean()
    plain = regularization.hybrid_classifier_loss(
        logits, labels, latent, log_det, nf_weight=0.0
    )
    hybrid = regularization.hybrid_classifier_loss(
        logits, labels, latent, log_det, nf_weight=1e-2
    )
    np.testing.assert_allclose(plain, cross_entropy, rtol=1e-6)
    np.testing.assert_allclose(hybrid, cross_entropy + 1e-2 * nll, rtol=1e-6)
    grad = jax.grad(
        lambda z: regularization.hybrid_classifier_loss(
            logits, labels, z, log_det, nf_weight=1.0
        )
    )(latent)
    assert np.all(np.isfinite(grad))
    with pytest.raises(ValueError, match="nf_weight"):
        regularization.hybrid_classifier_loss(
            logits, labels, latent, log_det, nf_weight=-1.0
        )
