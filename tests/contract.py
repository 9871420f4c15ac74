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

from jinvnet import bijectors, ops


@dataclasses.dataclass(frozen=True)
class Case:
    """How to make one bijector for the contract test.

    Attributes:
      init: (key, dtype) -> params, random and away from the identity.
      build: params -> distrax.Bijector.
      event_shape: the input event shape (height, width, channels).
      round_trip_rtol_f32: round-trip tolerance in float32 (relative to max |x|).
      input_range: (low, high) for inputs drawn uniformly from the op's domain;
        None (default) draws x ~ N(0, 1), for ops defined on all reals.
    """

    init: Callable[[chex.PRNGKey, jnp.dtype], Any]
    build: Callable[[Any], distrax.Bijector]
    event_shape: tuple[int, int, int] = (4, 4, 4)
    round_trip_rtol_f32: float = 1e-5
    input_range: tuple[float, float] | None = None


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
    params = ops.conv1x1.init(k1, 4, dtype=dtype)
    return perturb(params, k2, 0.3)


def _conv1x1_lu(key, dtype):
    k1, k2 = jax.random.split(key)
    params = ops.conv1x1_lu.init(k1, 4, dtype=dtype)
    return perturb(params, k2, 0.3)._replace(sign=params.sign)


def _coupling(op, channels=4):
    def init(key, dtype):
        k1, k2 = jax.random.split(key)
        params = op.init(k1, channels, hidden_channels=8, dtype=dtype)
        return perturb(params, k2, 0.2)

    return init


def _perturbed(init, scale=0.2):
    """Trained-like params: `init(key, dtype)` plus N(0, scale^2) noise."""

    def make(key, dtype):
        k1, k2 = jax.random.split(key)
        return perturb(init(k1, dtype), k2, scale)

    return make


def _revnet(coupling):
    return lambda key, dtype: ops.revnet.init(
        key, 4, coupling=coupling, hidden_channels=8, dtype=dtype
    )


def _emerging(key, dtype):
    k1, k2 = jax.random.split(key)
    params = ops.emerging.init(k1, 4, dtype=dtype)
    noisy = perturb(params, k2, 0.2)
    return noisy._replace(conv1x1=noisy.conv1x1._replace(sign=params.conv1x1.sign))


def _cinc(unit_diagonal):
    return lambda key, dtype: ops.cinc.init(
        key, 4, unit_diagonal=unit_diagonal, dtype=dtype
    )


def _mint(key, dtype):
    return ops.mint.init(key, 4, num_groups=2, spatial_shape=(4, 4), dtype=dtype)


def _conditional_coupling(channels):
    """Trained-like conditioner and a fixed context (4, 4, 3) shared by the batch."""

    def init(key, dtype):
        k1, k2, k3 = jax.random.split(key, 3)
        context = jax.random.normal(k1, (4, 4, 3), dtype)
        params = ops.conditional_coupling.init(
            k2, channels, context, hidden_channels=8, dtype=dtype
        )
        return perturb(params, k3, 0.2)

    return init


def _fft_conv(key, dtype):
    return ops.fft_conv.init(key, 3, kernel_size=3, init_scale=0.3, dtype=dtype)


BIJECTORS: dict[str, Case] = {
    "actnorm": Case(_actnorm, bijectors.ActNorm),
    "conv1x1": Case(_conv1x1, bijectors.Conv1x1),
    "conv1x1_lu": Case(_conv1x1_lu, bijectors.Conv1x1LU),
    "additive_coupling": Case(
        _coupling(ops.additive_coupling), bijectors.AdditiveCoupling
    ),
    "affine_coupling": Case(_coupling(ops.affine_coupling), bijectors.AffineCoupling),
    "affine_coupling_min_scale": Case(
        _coupling(ops.affine_coupling),
        lambda p: bijectors.AffineCoupling(p, min_scale=0.3),
    ),
    "permute": Case(lambda key, dtype: ops.permute.init(key, 4), bijectors.Permute),
    "logit": Case(
        lambda key, dtype: ops.logit.init(0.05, dtype),
        bijectors.Logit,
        input_range=(-0.5, 0.5),  # pixels scaled by jinvnet.data
    ),
    "sneaky_relu": Case(
        lambda key, dtype: ops.sneaky_relu.init(0.2, dtype), bijectors.SneakyReLU
    ),
    "squeeze": Case(lambda key, dtype: None, lambda params: bijectors.Squeeze()),
    "cinc": Case(_perturbed(_cinc(False)), bijectors.CInCConv),
    "cinc_unit_diagonal_filter": Case(
        _perturbed(_cinc(True)), lambda p: bijectors.CInCConv(p, method="filter")
    ),
    "cinc_scan": Case(
        _perturbed(_cinc(False)), lambda p: bijectors.CInCConv(p, method="scan")
    ),
    "emerging": Case(_emerging, bijectors.EmergingConv),
    "quad_coupling": Case(_coupling(ops.quad_coupling), bijectors.QuadCoupling),
    "revnet_additive": Case(_perturbed(_revnet("additive")), bijectors.RevNetBlock),
    "revnet_affine": Case(
        _perturbed(_revnet("affine")),
        lambda params: bijectors.RevNetBlock(params, coupling="affine"),
    ),
    "irevnet": Case(_coupling(ops.irevnet), bijectors.IRevNetBlock),
    "irevnet_downsample": Case(
        _perturbed(
            lambda key, dtype: ops.irevnet.init(
                key, 4, downsample=True, hidden_channels=8, dtype=dtype
            )
        ),
        lambda params: bijectors.IRevNetBlock(params, downsample=True),
    ),
    "reversible_stack": Case(
        _perturbed(
            lambda key, dtype: ops.reversible_stack.init(
                key, 3, lambda k: _revnet("additive")(k, dtype)
            ),
            scale=0.1,
        ),
        lambda params: bijectors.ReversibleStack(
            params, block=ops.revnet.additive, memory_saving=False
        ),
    ),
    "split_prior": Case(_coupling(ops.split_prior), bijectors.SplitPrior),
    "conditional_coupling": Case(
        _conditional_coupling(1), bijectors.ConditionalCoupling, event_shape=(4, 4, 1)
    ),
    "conditional_coupling_odd": Case(
        _conditional_coupling(4),
        lambda params: bijectors.ConditionalCoupling(params, parity=1),
    ),
    "fft_conv": Case(_fft_conv, bijectors.FFTConv, event_shape=(4, 5, 3)),
    "fft_conv_complex": Case(
        _fft_conv, lambda p: bijectors.FFTConv(p, log_det_method="complex"), (5, 4, 3)
    ),
    "fft_conv_lifting": Case(
        _fft_conv, lambda p: bijectors.FFTConv(p, log_det_method="lifting"), (4, 4, 3)
    ),
    "checkerboard": Case(lambda key, dtype: None, lambda p: bijectors.Checkerboard()),
    "iavgpool": Case(lambda key, dtype: None, lambda p: bijectors.IAvgPool2d()),
    "act_on_channels": Case(
        _coupling(ops.affine_coupling, channels=2),
        lambda params: bijectors.ActOnChannels(bijectors.AffineCoupling(params), 2),
    ),
    "mint_lower": Case(_perturbed(_mint, 0.3), bijectors.MintLayer),
    "mint_upper": Case(
        _perturbed(_mint, 0.3), lambda p: bijectors.MintLayer(p, upper=True)
    ),
    "mint_block": Case(
        _perturbed(lambda k, d: (_mint(k, d), _mint(jax.random.fold_in(k, 1), d))),
        lambda params: bijectors.mint_block(*params),
    ),
}
