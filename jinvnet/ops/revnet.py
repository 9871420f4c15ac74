"""The RevNet reversible block, additive or affine (Gomez et al. 2017; seed 004).

The input x of shape (..., height, width, c), c even, is split along channels into
halves x1 = x[..., :c/2] and x2 = x[..., c/2:]. Two residual functions F and G are
`conv_net`s. Additive block (eq. of seed 004, "ResNet vs. INN"):

    forward:  y1 = x1 + F(x2),  y2 = x2 + G(y1),   log|det dy/dx| = 0
    inverse:  x2 = y2 - G(y1),  x1 = y1 - F(x2),   log|det dx/dy| = 0

Affine block, with the sigmoid scale of `affine_coupling` ([t, h] = NN(.),
s = sigmoid(h + 2)):

    forward:  y1 = (x1 + t_F(x2)) * s_F(x2),  y2 = (x2 + t_G(y1)) * s_G(y1),
              log|det dy/dx| = sum log s_F(x2) + sum log s_G(y1)
    inverse:  x2 = y2 / s_G(y1) - t_G(y1),  x1 = y1 / s_F(x2) - t_F(x2),
              log|det dx/dy| = -log|det dy/dx|

Additive blocks are globally bi-Lipschitz; affine ones are not and can have
exploding inverses where s is small (Behrmann et al. 2021). Each block is two
coupling steps of `additive_coupling` / `affine_coupling` with the halves swapped
before each: coupling_F([x2, x1]) = [x2, y1], then coupling_G([y1, x2]) = [y1, y2].

Params: `Params(f, g)`, two `coupling.Params` for c channels. `additive` and
`affine` (or `block(coupling)`) are the two blocks as `ops.block.Block`s.

Example (random conditioners, so the block is not the identity):

    >>> import jax, jax.numpy as jnp
    >>> params = init(jax.random.PRNGKey(0), 4, coupling="affine", hidden_channels=8)
    >>> noise = lambda p: p + 0.1 * jax.random.normal(jax.random.PRNGKey(2), p.shape)
    >>> params = Params(*jax.tree_util.tree_map(noise, tuple(params)))
    >>> x = jax.random.normal(jax.random.PRNGKey(1), (2, 4, 4, 4))
    >>> y, log_det = block("affine").forward(params, x)   # a Block
    >>> bool(jnp.abs(y - x).max() > 0.01)
    True
    >>> x_back, _ = block("affine").inverse(params, y)
    >>> bool(jnp.allclose(x_back, x, atol=1e-5))
    True
"""

import functools
from types import ModuleType
from typing import NamedTuple

import chex
import jax
import jax.numpy as jnp

from jinvnet import _validation
from jinvnet.ops import additive_coupling, affine_coupling, coupling
from jinvnet.ops.block import Block

_NAME = "revnet"
_COUPLINGS = {"additive": additive_coupling, "affine": affine_coupling}


class Params(NamedTuple):
    """The conditioners of the two coupling steps: F (on x2) and G (on y1)."""

    f: coupling.Params
    g: coupling.Params


def _coupling_op(kind: str) -> ModuleType:
    if kind not in _COUPLINGS:
        raise ValueError(
            f"{_NAME}: coupling must be one of {sorted(_COUPLINGS)}, got {kind!r}"
        )
    return _COUPLINGS[kind]


def init(
    key: chex.PRNGKey,
    channels: int,
    *,
    coupling: str = "additive",
    hidden_channels: int = 64,
    dtype: jnp.dtype = jnp.float32,
) -> Params:
    """F and G with zero output layers.

    The block starts as the identity (additive) or as a fixed per-half scale
    sigmoid(2) (affine).

    Raises:
      ValueError: odd `channels` or an unknown `coupling`.
    """
    op = _coupling_op(coupling)
    _validation.check_positive_int(channels, _NAME, "channels")
    _validation.check_divisible(channels, 2, _NAME, "channels")
    k_f, k_g = jax.random.split(key)
    make = functools.partial(
        op.init, channels=channels, hidden_channels=hidden_channels, dtype=dtype
    )
    return Params(f=make(k_f), g=make(k_g))


def _swap(x: jax.Array) -> jax.Array:
    """[x1, x2] -> [x2, x1] for equal halves."""
    return jnp.roll(x, x.shape[-1] // 2, axis=-1)


def _check(x: jax.Array) -> None:
    _validation.check_image(x, _NAME)
    _validation.check_divisible(x.shape[-1], 2, _NAME, "channels")


def forward(
    params: Params, x: jax.Array, *, coupling: str = "additive"
) -> tuple[jax.Array, jax.Array]:
    """y1 = x1 + F(x2), y2 = x2 + G(y1) (or the affine variant).

    Args:
      params: `Params` for c channels.
      x: input of shape (..., height, width, c), c even.
      coupling: "additive" (default) or "affine".

    Returns:
      y of the shape of x, and log|det dy/dx| of the batch shape.

    Raises:
      ValueError: wrong rank, non-floating dtype, odd or mismatched channels.

    Examples:
      >>> import jax, jax.numpy as jnp
      >>> params = init(jax.random.PRNGKey(0), 4)
      >>> x = jax.random.normal(jax.random.PRNGKey(1), (2, 8, 8, 4))
      >>> y, log_det = forward(params, x)
      >>> x_back, inverse_log_det = inverse(params, y)
      >>> y.shape, log_det.shape
      ((2, 8, 8, 4), (2,))
      >>> bool(jnp.allclose(x_back, x, atol=1e-5))
      True
      >>> bool(jnp.allclose(inverse_log_det, -log_det, atol=1e-4))
      True
    """
    op = _coupling_op(coupling)
    _check(x)
    h, log_det_f = op.forward(params.f, _swap(x))  # [x2, y1]
    y, log_det_g = op.forward(params.g, _swap(h))  # [y1, y2]
    return y, log_det_f + log_det_g


def inverse(
    params: Params, y: jax.Array, *, coupling: str = "additive"
) -> tuple[jax.Array, jax.Array]:
    """x2 = y2 - G(y1), x1 = y1 - F(x2) (or the affine one); returns (x, log_det)."""
    op = _coupling_op(coupling)
    _check(y)
    h, log_det_g = op.inverse(params.g, y)  # [y1, x2]
    x, log_det_f = op.inverse(params.f, _swap(h))  # [x2, x1]
    return _swap(x), log_det_f + log_det_g


def block(coupling: str = "additive") -> Block:
    """The block with the given coupling ("additive" or "affine") as a `Block`."""
    _coupling_op(coupling)
    return Block(
        functools.partial(forward, coupling=coupling),
        functools.partial(inverse, coupling=coupling),
    )


additive = block("additive")
affine = block("affine")
