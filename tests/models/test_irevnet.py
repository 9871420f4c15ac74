"""i-RevNet feature extractor and classifier (seed 004)."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from jinvnet import models
from tests.conftest import roundoff
from tests.contract import perturb

X = jax.random.normal(jax.random.PRNGKey(0), (2, 8, 8, 3))


def _classifier(block="irevnet", memory_saving=False):
    features = models.IRevNet(
        (1, 1), hidden_channels=4, block=block, memory_saving=memory_saving
    )
    return models.IRevNetClassifier(5, features)


@pytest.mark.parametrize("block", ["irevnet", "additive", "affine"])
def test_features_are_one_bijector_and_invert(block):
    model = _classifier(block)
    variables = perturb(
        model.init(jax.random.PRNGKey(1), X), jax.random.PRNGKey(2), 0.1
    )
    out = model.apply(variables, X)
    assert out.logits.shape == (2, 5)
    assert out.latent.shape == (2, 2, 2, 48) and out.log_det.shape == (2,)
    bijector = model.apply(variables, X, method="feature_bijector")
    atol = roundoff(X.dtype, X, ulps=128)  # a stack of blocks
    np.testing.assert_allclose(bijector.inverse(out.latent), X, rtol=0, atol=atol)
    if block != "affine":
        np.testing.assert_array_equal(out.log_det, np.zeros(2))


def test_apply_accepts_a_shape_struct():
    model = _classifier()
    variables = model.init(jax.random.PRNGKey(1), X)
    bijector = model.apply(
        variables, jax.ShapeDtypeStruct(X.shape, X.dtype), method="feature_bijector"
    )
    assert bijector.forward(X).shape == (2, 2, 2, 48)


def test_memory_saving_gives_the_same_gradients():
    variables = perturb(
        _classifier().init(jax.random.PRNGKey(1), X), jax.random.PRNGKey(2), 0.1
    )

    def loss(model):
        return lambda v: jnp.sum(model.apply(v, X).logits ** 2)

    standard = jax.grad(loss(_classifier()))(variables)
    saving = jax.grad(loss(_classifier(memory_saving=True)))(variables)
    for a, b in zip(
        jax.tree_util.tree_leaves(saving), jax.tree_util.tree_leaves(standard)
    ):
        np.testing.assert_allclose(a, b, rtol=1e-4, atol=1e-6)


def test_raises_if_block_unknown():
    with pytest.raises(ValueError, match="block must be one of"):
        _classifier(block="spline").init(jax.random.PRNGKey(1), X)
