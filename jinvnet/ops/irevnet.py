"""The i-RevNet block with invertible downsampling (Jacobsen et al. 2018; seed 004).

The input x of shape (..., height, width, c), c even, is split along channels into
halves x1 = x[..., :c/2] and x2 = x[..., c/2:]. With `downsample=True` both halves
first go through the 2x2 space-to-depth S of `squeeze` (i-RevNet's invertible
downsampling), otherwise S is the identity. F is a `conv_net`:

    forward:  y = [S(x2), S(x1) + F(S(x2))],         log|det dy/dx| = 0
    inverse:  u2 = y[..., :c'/2],  u1 = y[..., c'/2:] - F(u2),
              x = [S^{-1}(u1), S^{-1}(u2)],            log|det dx/dy| = 0

where c' = 4c with downsampling and c' = c without. The output halves are swapped,
as in i-RevNet, so the next block transforms the other half. The block is the
`additive_coupling` op applied to [S(x2), S(x1)]; F therefore acts on the
downsampled half, where the paper's F is a strided convolution on x2.

Params: `coupling.Params` of an additive coupling on c' channels.
`block` and `downsampling_block` are the two variants as `ops.block.Block`s.
"""

import functools

import chex
import jax
import jax.numpy as jnp

from jinvnet import _validation
from jinvnet.ops import additive_coupling, coupling, squeeze
from jinvnet.ops.block import Block

_NAME = "irevnet"

Params = coupling.Params


def init(
    key: chex.PRNGKey,
    channels: int,
    *,
    downsample: bool = False,
    hidden_channels: int = 64,
    dtype: jnp.dtype = jnp.float32,
) -> Params:
    """F with a zero output layer (identity up to the swap and downsampling).

    Args:
      key: PRNG key.
      channels: input channels c (even).
      downsample: whether the block halves the resolution (default False).
      hidden_channels: width of F (default 64).
      dtype: parameter dtype (default float32).

    Raises:
      ValueError: odd `channels`.
    """
    _validation.check_positive_int(channels, _NAME, "channels")
    _validation.check_divisible(channels, 2, _NAME, "channels")
    out_channels = 4 * channels if downsample else channels
    return additive_coupling.init(
        key, out_channels, hidden_channels=hidden_channels, dtype=dtype
    )


def _halves(x: jax.Array) -> tuple[jax.Array, jax.Array]:
    _validation.check_image(x, _NAME)
    _validation.check_divisible(x.shape[-1], 2, _NAME, "channels")
    half = x.shape[-1] // 2
    return x[..., :half], x[..., half:]


def forward(
    params: Params, x: jax.Array, *, downsample: bool = False
) -> tuple[jax.Array, jax.Array]:
    """Y = [S(x2), S(x1) + F(S(x2))].

    Args:
      params: `coupling.Params` for c' = 4c (downsampling) or c channels.
      x: input of shape (..., height, width, c), c even; height and width even
        when downsampling.
      downsample: whether S is the 2x2 squeeze (default False).

    Returns:
      y of shape (..., height / 2, width / 2, 4c) with downsampling, else the shape
      of x, and a zero log-det of the batch shape.

    Raises:
      ValueError: wrong rank, non-floating dtype, odd channels or size, or
        parameters built for another channel count.

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
    x1, x2 = _halves(x)
    if downsample:
        x1, x2 = squeeze.forward(x1)[0], squeeze.forward(x2)[0]
    return additive_coupling.forward(params, jnp.concatenate([x2, x1], axis=-1))


def inverse(
    params: Params, y: jax.Array, *, downsample: bool = False
) -> tuple[jax.Array, jax.Array]:
    """Undoes the coupling, the swap and the downsampling; returns (x, 0)."""
    _halves(y)
    h, log_det = additive_coupling.inverse(params, y)
    u2, u1 = _halves(h)
    if downsample:
        u1, u2 = squeeze.inverse(u1)[0], squeeze.inverse(u2)[0]
    return jnp.concatenate([u1, u2], axis=-1), log_det


block = Block(
    functools.partial(forward, downsample=False),
    functools.partial(inverse, downsample=False),
)
downsampling_block = Block(
    functools.partial(forward, downsample=True),
    functools.partial(inverse, downsample=True),
)
