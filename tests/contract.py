"""The shared bijector contract: every public bijector registers one `Case` here.

A case knows how to draw "trained-like" parameters (random, away from the identity)
and how to build the bijector from them, so the contract can rebuild it inside `jit`
and differentiate with respect to the parameters. `tests/test_contract.py` runs every
check on every case, in float32 and float64.
"""

import dataclasses
from typing import Any, Callable

import chex
import distrax
import jax
import jax.numpy as jnp

from jinvnet import bijectors
from jinvnet import ops


@dataclasses.dataclass(frozen=True)
class Case:
    """How to make one bijector for the contract test.

    Attributes:
      init: (key, dtype) -> params, random and away from the identity.
      build: params -> distrax.Bijector.
      event_shape: the input event shape (height, width, channels).
      round_trip_rtol_f32: round-trip tolerance in float32 (relative to max |x|).
    """

    init: Callable[[chex.PRNGKey, jnp.dtype], Any]
    build: Callable[[Any], distrax.Bijector]
    event_shape: tuple[int, int, int] = (4, 4, 4)
    round_trip_rtol_f32: float = 1e-5


def perturb(params: Any, key: chex.PRNGKey, scale: float) -> Any:
    """Adds N(0, scale^2) noise to every floating leaf of `params`."""
    leaves, treedef = jax.tree_util.tree_flatten(params)
    keys = jax.random.split(key, len(leaves))
    noisy = [
        leaf + scale * jax.random.normal(k, leaf.shape, leaf.dtype)
        if jnp.issubdtype(leaf.dtype, jnp.floating)
        else leaf
        for leaf, k in zip(leaves, keys)
    ]
    return jax.tree_util.tree_unflatten(treedef, noisy)


def _normal(key: chex.PRNGKey, shape: tuple[int, ...], dtype, scale: float):
    return scale * jax.random.normal(key, shape, dtype)


def _actnorm(key, dtype):
    k1, k2 = jax.random.split(key)
    return ops.actnorm.Params(
        loc=_normal(k1, (4,), dtype, 0.5), log_scale=_normal(k2, (4,), dtype, 0.3)
    )


def _conv1x1(key, dtype):
    k1, k2 = jax.random.split(key)
    params = ops.conv1x1.init(k1, 4, dtype)
    return perturb(params, k2, 0.3)


def _conv1x1_lu(key, dtype):
    k1, k2 = jax.random.split(key)
    params = ops.conv1x1_lu.init(k1, 4, dtype)
    return perturb(params, k2, 0.3)._replace(sign=params.sign)


def _coupling(op):
    def init(key, dtype):
        k1, k2 = jax.random.split(key)
        params = op.init(k1, 4, hidden_channels=8, dtype=dtype)
        return perturb(params, k2, 0.2)

    return init


BIJECTORS: dict[str, Case] = {
    "actnorm": Case(_actnorm, bijectors.ActNorm),
    "conv1x1": Case(_conv1x1, bijectors.Conv1x1),
    "conv1x1_lu": Case(_conv1x1_lu, bijectors.Conv1x1LU),
    "additive_coupling": Case(
        _coupling(ops.additive_coupling), bijectors.AdditiveCoupling
    ),
    "affine_coupling": Case(_coupling(ops.affine_coupling), bijectors.AffineCoupling),
    "permute": Case(lambda key, dtype: ops.permute.init(key, 4), bijectors.Permute),
    "sneaky_relu": Case(
        lambda key, dtype: ops.sneaky_relu.init(0.2, dtype), bijectors.SneakyReLU
    ),
    "squeeze": Case(lambda key, dtype: None, lambda params: bijectors.Squeeze()),
}
