"""Emerging k x k convolution (Hoogeboom, van den Berg and Welling 2019).

The baseline of CInC Flow (seed 001, Sec. 2; seed 003: 10n^2 parameters, two
convolutions). An LU 1x1 convolution (Glow) is followed by two masked
autoregressive k x k convolutions with "same" padding: one causal in raster order
(row, column, channel), one anti-causal. Both have a unit diagonal on the centre
tap, so the log-det is the 1x1 convolution's.

Params: `Params(conv1x1, causal, anticausal)`: `conv1x1` is a `conv1x1_lu.Params`;
`causal` and `anticausal` are (k, k, c, c) kernels in HWIO layout (row, column,
in, out), k odd, masked by `mask`: rows above the centre, the taps left of the
centre in its row, and the centre tap's entries with in < out (its (out, in)
matrix strictly lower triangular), whose diagonal is 1.
The anti-causal convolution is the causal one seen in a mirror:

    flip(x)[i, j, c] = x[H - 1 - i, W - 1 - j, C - 1 - c]
    causal:      (K1 * x)[i, j] = sum_{a, b} K1[a, b]^T @ x[i + a - r, j + b - r],
                 r = (k - 1) / 2, x = 0 outside the image
    anti-causal: K2 ** x = flip(K2 * flip(x))

    forward:  y = K2 ** (K1 * (W x)),
              log|det dy/dx| = H * W * sum(log_scale of W)
    inverse:  x = W^{-1} solve_K1(flip(solve_K2(flip(y)))),
              log|det dx/dy| = -H * W * sum(log_scale of W)

Each solve is the raster-order back substitution shared with CInC
(`_causal_conv`): "scan" goes pixel by pixel (the reference), "rows" row by row
(the row's 1D system by a dense inverse), "wavefront" solves the hyperplanes
2i + j = t (for k = 3; (r + 1) i + j in general) together, and "fast" (default) is
"rows" for rows of W c <= 1024 entries and "wavefront" otherwise. Free parameters
for k = 3: 2 (4c^2 + c(c - 1)/2) + c^2 = 10c^2 - c (seed 003 rounds it to 10n^2).

Example (parameter bookkeeping and a fixed solver):

    >>> import jax, jax.numpy as jnp
    >>> params = init(jax.random.PRNGKey(0), 4)   # Params(conv1x1, causal, anticausal)
    >>> params.causal.shape, params.anticausal.shape
    ((3, 3, 4, 4), (3, 3, 4, 4))
    >>> int(2 * mask(4).sum()) + 4 * 4 == num_parameters(4)
    True
    >>> bool((free_mask(params).causal == mask(4)).all())
    True
    >>> x = jax.random.normal(jax.random.PRNGKey(1), (2, 8, 8, 4))
    >>> y, _ = forward(params, x)
    >>> x_back, _ = with_method("wavefront").inverse(params, y)   # a Block
    >>> bool(jnp.allclose(x_back, x, atol=1e-4))
    True
"""

import functools
from typing import NamedTuple, Optional

import chex
import jax
import jax.numpy as jnp
import numpy as np

from jinvnet import _validation
from jinvnet.ops import _causal_conv, conv1x1_lu, inverse_result
from jinvnet.ops.block import Block
from jinvnet.ops.inverse_result import InverseResult

_NAME = "emerging"

METHODS = tuple(_causal_conv.SOLVERS)  # ("fast", "rows", "wavefront", "scan")


class Params(NamedTuple):
    """Emerging-convolution parameters (see the module docstring)."""

    conv1x1: conv1x1_lu.Params
    causal: jax.Array
    anticausal: jax.Array


def _check_kernel_size(kernel_size: int) -> None:
    _validation.check_positive_int(kernel_size, _NAME, "kernel_size")
    if kernel_size % 2 == 0:
        raise ValueError(
            f"{_NAME}: kernel_size must be odd (the centre tap must be a pixel), "
            f"got {kernel_size}"
        )


def mask(channels: int, kernel_size: int = 3) -> np.ndarray:
    """0/1 mask of the free entries of the causal (and mirrored) kernel.

    Raises:
      ValueError: if `kernel_size` is even or `channels` is not positive.
    """
    _check_kernel_size(kernel_size)
    _validation.check_positive_int(channels, _NAME, "channels")
    r = kernel_size // 2
    m = np.zeros((kernel_size, kernel_size, channels, channels))
    m[:r] = 1.0
    m[r, :r] = 1.0
    m[r, r] = np.triu(np.ones((channels, channels)), 1)  # (in, out): in < out
    return m


def free_mask(params: Params) -> Params:
    """0/1 masks of the trained entries: `mask` for both kernels, the 1x1's own.

    Reads only shapes, so `jax.ShapeDtypeStruct`s do.
    """
    kernel_size, channels = params.causal.shape[0], params.causal.shape[-1]
    kernel = mask(channels, kernel_size)
    return Params(
        conv1x1=conv1x1_lu.free_mask(params.conv1x1), causal=kernel, anticausal=kernel
    )


def num_parameters(channels: int, kernel_size: int = 3) -> int:
    """Free parameters: two masked kernels plus the c^2 of the LU 1x1 convolution."""
    per_kernel = int(mask(channels, kernel_size).sum())
    return 2 * per_kernel + channels**2


def init(
    key: chex.PRNGKey,
    channels: int,
    *,
    kernel_size: int = 3,
    init_scale: Optional[float] = None,
    dtype: jnp.dtype = jnp.float32,
) -> Params:
    """A random rotation for the 1x1 and masked taps ~ N(0, init_scale^2).

    `init_scale` None (default) is the fan-in scaling 0.1 / sqrt(k^2 c)
    (`_causal_conv.default_init_scale`).

    Raises:
      ValueError: if `kernel_size` is even.
    """
    _validation.check_dtype(dtype, _NAME, "parameter dtype")
    scale = init_scale
    if scale is None:
        scale = _causal_conv.default_init_scale(channels, kernel_size)
    m = jnp.asarray(mask(channels, kernel_size), dtype)
    k1, k2, k3 = jax.random.split(key, 3)
    shape = m.shape

    def taps(key):
        # Drawn as (out, in) and transposed: the same operator for a given key as
        # before kernels were stored HWIO (2026-12-03).
        return jnp.swapaxes(jax.random.normal(key, shape, dtype), -1, -2)

    return Params(
        conv1x1=conv1x1_lu.init(k1, channels, dtype=dtype),
        causal=scale * taps(k2) * m,
        anticausal=scale * taps(k3) * m,
    )


def _check(params: Params, x: jax.Array) -> int:
    channels = params.conv1x1.log_scale.shape[-1]
    for what in ("causal", "anticausal"):
        shape = tuple(jnp.shape(getattr(params, what)))
        if len(shape) != 4 or shape[0] != shape[1] or shape[2:] != (channels,) * 2:
            raise ValueError(
                f"{_NAME}: `{what}` must have shape (k, k, {channels}, {channels}), "
                f"got shape {shape}"
            )
        _check_kernel_size(shape[0])
    _validation.check_params(params, _NAME)
    _validation.check_image(x, _NAME, channels=channels)
    return params.causal.shape[0]


def _masked(kernel: jax.Array) -> jax.Array:
    """The kernel with its mask applied and a unit diagonal on the centre tap."""
    kernel_size, channels = kernel.shape[0], kernel.shape[2]
    r = kernel_size // 2
    kernel = kernel * jnp.asarray(mask(channels, kernel_size), kernel.dtype)
    return kernel.at[r, r].add(jnp.eye(channels, dtype=kernel.dtype))


def _flip(x: jax.Array) -> jax.Array:
    return x[..., ::-1, ::-1, ::-1]


def forward(params: Params, x: jax.Array) -> tuple[jax.Array, jax.Array]:
    """Y = K2 ** (K1 * (W x)).

    Args:
      params: `Params` for c channels.
      x: input of shape (..., height, width, c).

    Returns:
      y of the shape of x, and log|det dy/dx| of the batch shape.

    Raises:
      ValueError: wrong rank, non-floating dtype, channel mismatch or a kernel
        that is not (k, k, c, c) with k odd.

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
    kernel_size = _check(params, x)
    anchor = (kernel_size // 2,) * 2
    u, log_det = conv1x1_lu.forward(params.conv1x1, x)
    v = _causal_conv.conv(_masked(params.causal), u, anchor)
    y = _flip(_causal_conv.conv(_masked(params.anticausal), _flip(v), anchor))
    return y, log_det


def inverse(
    params: Params, y: jax.Array, *, method: str = "fast"
) -> tuple[jax.Array, jax.Array]:
    """X = W^{-1} solve_K1(flip(solve_K2(flip(y)))); returns (x, log|det dx/dy|).

    Args:
      params: `Params` for c channels.
      y: output of shape (..., height, width, c).
      method: one of `METHODS` (module docstring); default "fast".

    Returns:
      x of the shape of y, and log|det dx/dy| of the batch shape.

    Raises:
      ValueError: bad shapes or dtype (as `forward`) or an unknown method.
    """
    kernel_size = _check(params, y)
    _validation.check_choice(method, METHODS, _NAME, "method")
    solve = _causal_conv.SOLVERS[method]
    anchor = (kernel_size // 2,) * 2
    v = _flip(solve(_masked(params.anticausal), _flip(y), anchor, unit_diagonal=True))
    u = solve(_masked(params.causal), v, anchor, unit_diagonal=True)
    return conv1x1_lu.inverse(params.conv1x1, u)


def solve(
    params: Params, y: jax.Array, *, method: str = "fast", tol: Optional[float] = None
) -> InverseResult:
    """`inverse`'s x with a report (`ops.inverse_result`; one extra forward).

    The report has the relative residual per example, `converged` = residual <=
    tol (`default_tolerance` of the dtype unless given), iterations 0 (direct
    solves) and the 1x1 convolution's min |U_cc| (the masked convolutions have unit
    diagonals).

    Examples:
      >>> import jax
      >>> params = init(jax.random.PRNGKey(0), 4)
      >>> y = jax.random.normal(jax.random.PRNGKey(1), (2, 8, 8, 4))
      >>> result = solve(params, y)  # an ops.inverse_result.InverseResult
      >>> result.x.shape, result.residual.shape, bool(result.converged.all())
      ((2, 8, 8, 4), (2,), True)
      >>> int(result.iterations)
      0
    """
    x, _ = inverse(params, y, method=method)
    return inverse_result.of_direct_solve(
        x,
        forward(params, x)[0],
        y,
        tol=tol,
        min_abs_diagonal=conv1x1_lu.min_abs_diagonal(params.conv1x1),
    )


def with_method(method: str = "fast") -> Block:
    """`forward` and `inverse` with the solver fixed; ValueError if not in METHODS."""
    _validation.check_choice(method, METHODS, _NAME, "method")
    return Block(forward, functools.partial(inverse, method=method))
