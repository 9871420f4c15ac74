"""bijectors.forward_shape: the traced output shape, without tracing where it can."""

import distrax
import jax
import jax.numpy as jnp
import pytest

from jinvnet import bijectors, ops
from jinvnet.ops.block import Block


def _counting_stack(depth=3, channels=4):
    """A ReversibleStack of additive RevNet blocks that counts its traces."""
    calls = []

    def forward(p, h):
        calls.append(h.shape)
        return ops.revnet.additive.forward(p, h)

    keys = jax.random.split(jax.random.PRNGKey(0), depth)
    params = jax.vmap(lambda k: ops.revnet.init(k, channels, hidden_channels=8))(keys)
    block = Block(forward, ops.revnet.additive.inverse)
    return bijectors.ReversibleStack(params, block=block), calls


def test_shape_keeping_layers_are_not_traced():
    stack, calls = _counting_stack()
    x = jax.ShapeDtypeStruct((2, 4, 4, 4), jnp.float32)
    chain = distrax.Chain([stack, distrax.Inverse(stack), stack])
    for b in (stack, chain, bijectors.ActOnChannels(chain, 4)):
        assert bijectors.forward_shape(b, x) == x
    assert calls == []
    jax.eval_shape(stack.forward, x)  # the reference: one trace of the body
    assert calls == [(2, 4, 4, 4)]


def test_layers_that_change_the_shape_are_traced_and_composed():
    stack, calls = _counting_stack(channels=8)
    # squeeze (2, 4, 4, 2) -> (2, 2, 2, 8), then the stack; a chain runs its last first
    chain = distrax.Chain([stack, bijectors.Squeeze()])
    x = jnp.zeros((2, 4, 4, 2))
    shape = bijectors.forward_shape(chain, x)
    assert (shape.shape, shape.dtype) == ((2, 2, 2, 8), jnp.float32)
    assert calls == [] and not bijectors.keeps_shape(chain)
    assert shape == jax.eval_shape(chain.forward, x)


@pytest.mark.parametrize("downsample, expected", [(False, True), (True, False)])
def test_irevnet_keeps_the_shape_unless_it_downsamples(downsample, expected):
    params = ops.irevnet.init(
        jax.random.PRNGKey(0), 4, downsample=downsample, hidden_channels=8
    )
    bijector = bijectors.IRevNetBlock(params, downsample=downsample)
    assert bijectors.keeps_shape(bijector) is expected
    x = jax.ShapeDtypeStruct((2, 8, 8, 4), jnp.float32)
    y = jax.eval_shape(bijector.forward, x)
    assert bijectors.forward_shape(bijector, x) == jax.ShapeDtypeStruct(
        y.shape, y.dtype
    )
