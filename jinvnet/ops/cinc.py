"""CInC: an invertible k x k convolution by top-left padding and a masked kernel.

Nagar, Dufraisse and Varma 2021, "CInC Flow" (seed 001, Sec. 3.1, Theorem 1;
seed 003). Pad the input by k - 1 at the top and the left and convolve "valid",
so output pixel (i, j) reads inputs (i - k + 1 .. i, j - k + 1 .. j). The tap on
the current pixel, as an (out, in) matrix A = K[k - 1, k - 1]^T, is masked to a
lower-triangular c x c matrix, so in raster order (row, column, channel) the
Jacobian is lower triangular with diag(A) repeated H * W times.

Params: `Params(kernel, log_diag)`. `kernel` has shape (k, k, c, c) in HWIO
layout (row, column, in, out), as every convolution op of `jinvnet.ops` and
`lax.conv` store kernels; the centre tap's entries with in >= out (A's strict
upper triangle and its diagonal) are masked out. The diagonal is
diag(A) = exp(log_diag) (learned, positive, so the layer is invertible for every
value) or, with `log_diag=None`, the seed's unit-diagonal variant diag(A) = 1.
Free parameters for k = 3: 9c^2 - c(c - 1)/2 with a learned diagonal (seed 003),
c fewer with a unit diagonal.

    forward:  y[i, j] = sum_{a, b < k} K[a, b]^T @ x[i + a - k + 1, j + b - k + 1]
              (x = 0 outside the image),
              log|det dy/dx| = H * W * sum(log_diag)        (0 for unit diagonal)
    inverse:  back substitution in raster order,
              x[i, j] = A^{-1} (y[i, j] - sum_{(a, b) != (k-1, k-1)}
                                            K[a, b]^T @ x[...]),
              log|det dx/dy| = -H * W * sum(log_diag)

Inverse methods (`inverse(..., method=...)`), all exact up to rounding:

- "scan": the reference; one `lax.scan` step per pixel with a c x c triangular
  solve (the seed's sequential algorithm, jit-compiled), H * W steps.
- "rows": one step per image row (H steps): the k - 1 rows above enter by one
  matmul, and the row's own 1D causal system is solved by a dense (W c) x (W c)
  inverse built once per call (`_causal_conv.solve_rows`).
- "wavefront": all pixels on one anti-diagonal i + j = t are solved together,
  H + W - 1 steps.
- "filter": the inverse of a quarter-plane causal convolution is a quarter-plane
  causal convolution, x = h * y. Its impulse response h (H x W x c x c) is one
  wavefront solve of c impulses, and it is applied to the batch as one FFT
  convolution with 2H x 2W zero padding (no wrap-around). Falls back to the
  wavefront when unsafe (below).
- "fast" (default): "rows" when a row has W c <= 1024 entries
  (`_causal_conv.ROWS_MAX_WIDTH`), else "wavefront". Exact with no safety check.
  The choice follows the measurements in docs/benchmarks.md ("CInC inverse"):
  at batch 100 the rows solver was the fastest for every layer shape of the
  CIFAR-10 and ImageNet64 flows on CPU, the wavefront at batch 1.

Safety criterion of the filter: the gain g = max_o sum_{m, n, c_in}
|h[m, n, c_in, o]| is the induced infinity norm of the inverse, ||x||_inf <=
g ||y||_inf. Measured in float32 (c = 12, 16x16): the filter's error is about
1e-8 * g relative to max |x| (2.6e-6 at g = 5e2, 2.8e-4 at g = 3e4), so
"filter" uses the FFT only when g <= max_gain (default `default_max_gain`:
1e-4 / eps, i.e. 839 in float32 and 4.5e11 in float64) and g is finite, and the
wavefront otherwise, through `lax.cond` (under `vmap` over parameters both
branches run). A large g means the layer itself is ill-conditioned: the exact
solvers then also lose forward accuracy (about eps * g; at g = 3e4 the wavefront
was off by 1.2e-4) although their residual stays small, so g, not the
residual, is the warning sign. `solve` returns x with min |diag A|, g and the
relative residual per example (`ops.inverse_result.InverseResult`).

Example (the helpers around `forward` / `inverse`):

    >>> import jax, jax.numpy as jnp
    >>> params = init(jax.random.PRNGKey(0), 4)          # a Params(kernel, log_diag)
    >>> params.kernel.shape, params.log_diag.shape
    ((3, 3, 4, 4), (4,))
    >>> int(mask(4).sum()), num_parameters(4, unit_diagonal=True), num_parameters(4)
    (134, 134, 138)
    >>> bool((free_mask(params).kernel == mask(4)).all())
    True
    >>> a = effective_kernel(params)[2, 2]              # the centre tap, (in, out)
    >>> bool(jnp.allclose(jnp.diag(a), jnp.exp(params.log_diag)))
    True
    >>> bool(min_abs_diagonal(params) == jnp.exp(params.log_diag).min())
    True
    >>> x = jax.random.normal(jax.random.PRNGKey(1), (2, 8, 8, 4))
    >>> y, _ = forward(params, x)
    >>> x_rows, _ = with_method("rows").inverse(params, y)   # a Block
    >>> h, gain = inverse_filter(params, 8, 8)          # x = h * y, exactly
    >>> x_filter = apply_inverse_filter(h, y)
    >>> bool(gain < default_max_gain(jnp.float32))      # so "filter" uses the FFT
    True
    >>> tol = 1e-4 * float(jnp.abs(x).max())
    >>> (bool(jnp.allclose(x_rows, x, atol=tol)),
    ...  bool(jnp.allclose(x_filter, x, atol=tol)))
    (True, True)
"""

import functools
from typing import NamedTuple, Optional

import chex
import jax
import jax.numpy as jnp
import numpy as np

from jinvnet import _validation
from jinvnet.ops import _causal_conv, inverse_result
from jinvnet.ops.block import Block
from jinvnet.ops.inverse_result import InverseResult

_NAME = "cinc"

METHODS = ("fast", "rows", "wavefront", "filter", "scan")


class Params(NamedTuple):
    """CInC parameters.

    Attributes:
      kernel: (k, k, c, c) in HWIO layout (row, column, in, out); masked by `mask`.
      log_diag: (c,) log of the centre tap's diagonal, or None for a unit diagonal.
    """

    kernel: jax.Array
    log_diag: Optional[jax.Array]


def mask(channels: int, kernel_size: int = 3) -> np.ndarray:
    """The 0/1 mask (k, k, in, out) of the free kernel entries.

    Every tap is free except the centre tap's entries with in >= out: its (out,
    in) matrix is strictly lower triangular (the diagonal comes from log_diag).
    """
    _validation.check_positive_int(channels, _NAME, "channels")
    _validation.check_positive_int(kernel_size, _NAME, "kernel_size")
    m = np.ones((kernel_size, kernel_size, channels, channels))
    m[-1, -1] = np.triu(np.ones((channels, channels)), 1)
    return m


def free_mask(params: Params) -> Params:
    """0/1 masks of the trained entries: `mask` for the kernel, log_diag all free.

    Reads only shapes, so `jax.ShapeDtypeStruct`s do.
    """
    kernel_size, channels = params.kernel.shape[0], params.kernel.shape[-1]
    log_diag = None if params.log_diag is None else np.ones((channels,))
    return Params(kernel=mask(channels, kernel_size), log_diag=log_diag)


def num_parameters(
    channels: int, kernel_size: int = 3, *, unit_diagonal: bool = False
) -> int:
    """Free parameters: k^2 c^2 - c (c + 1) / 2, plus c for a learned diagonal."""
    free = kernel_size**2 * channels**2 - channels * (channels + 1) // 2
    return free if unit_diagonal else free + channels


def init(
    key: chex.PRNGKey,
    channels: int,
    *,
    kernel_size: int = 3,
    init_scale: Optional[float] = None,
    unit_diagonal: bool = False,
    dtype: jnp.dtype = jnp.float32,
) -> Params:
    """Near the identity: taps ~ N(0, s^2), log_diag ~ N(0, s^2), s = init_scale.

    Args:
      key: PRNG key.
      channels: c.
      kernel_size: k (default 3).
      init_scale: standard deviation of the noise; None (default) is the fan-in
        scaling 0.1 / sqrt(k^2 c) (`_causal_conv.default_init_scale`). With a
        fixed 0.01 the untrained ImageNet64-shaped CInC flow (L4 D48, widest
        layer 4x4x96) round-tripped to only 2e-4 (docs/benchmarks.md).
      unit_diagonal: the seed's always-invertible variant with diag A = 1.
      dtype: parameter dtype.

    Returns:
      `Params`; the centre diagonal is 1 + O(init_scale).
    """
    _validation.check_dtype(dtype, _NAME, "parameter dtype")
    scale = init_scale
    if scale is None:
        scale = _causal_conv.default_init_scale(channels, kernel_size)
    m = mask(channels, kernel_size)
    k_kernel, k_diag = jax.random.split(key)
    shape = (kernel_size, kernel_size, channels, channels)
    # Drawn as (out, in) and transposed: the same operator for a given key as
    # before kernels were stored HWIO (2026-12-03).
    noise = jnp.swapaxes(jax.random.normal(k_kernel, shape, dtype), -1, -2)
    kernel = scale * noise * m.astype(dtype)
    log_diag = (
        None if unit_diagonal else scale * jax.random.normal(k_diag, (channels,), dtype)
    )
    return Params(kernel=kernel, log_diag=log_diag)


def _check_params(params: Params) -> tuple[int, int]:
    shape = tuple(jnp.shape(params.kernel))
    if len(shape) != 4 or shape[0] != shape[1] or shape[2] != shape[3]:
        raise ValueError(
            f"{_NAME}: `kernel` must have shape (k, k, c, c), got shape {shape}"
        )
    if params.log_diag is not None and tuple(jnp.shape(params.log_diag)) != (shape[2],):
        raise ValueError(
            f"{_NAME}: `log_diag` must have shape ({shape[2]},) to match the kernel, "
            f"got shape {tuple(jnp.shape(params.log_diag))}"
        )
    return shape[0], shape[2]


def _check(params: Params, x: jax.Array) -> None:
    _, channels = _check_params(params)
    _validation.check_params(params, _NAME)
    _validation.check_image(x, _NAME, channels=channels)


def effective_kernel(params: Params) -> jax.Array:
    """The masked kernel with diag A = exp(log_diag) (or 1) on the centre tap."""
    kernel_size, channels = _check_params(params)
    m = jnp.asarray(mask(channels, kernel_size), params.kernel.dtype)
    kernel = params.kernel * m
    diag = (
        jnp.ones((channels,), kernel.dtype)
        if params.log_diag is None
        else jnp.exp(params.log_diag)
    )
    return kernel.at[-1, -1].add(jnp.diag(diag))


def _anchor(params: Params) -> tuple[int, int]:
    kernel_size = params.kernel.shape[0]
    return kernel_size - 1, kernel_size - 1


def _log_det(params: Params, x: jax.Array) -> jax.Array:
    height, width = x.shape[-3], x.shape[-2]
    total = 0.0 if params.log_diag is None else jnp.sum(params.log_diag)
    log_det = height * width * total
    return jnp.broadcast_to(log_det, _validation.event_batch_shape(x)).astype(x.dtype)


def min_abs_diagonal(params: Params) -> jax.Array:
    """Min |diag A|; the layer is singular exactly when it is 0 (Theorem 1)."""
    if params.log_diag is None:
        return jnp.ones((), params.kernel.dtype)
    return jnp.min(jnp.exp(params.log_diag))


def default_max_gain(dtype: jnp.dtype) -> float:
    """Largest gain for which "filter" uses the FFT: 1e-4 / eps of `dtype`."""
    return 1e-4 / float(jnp.finfo(dtype).eps)


def forward(params: Params, x: jax.Array) -> tuple[jax.Array, jax.Array]:
    """Y = K * x with top-left padding (seed 001, Sec. 3.1).

    Args:
      params: `Params` for c channels.
      x: input of shape (..., height, width, c).

    Returns:
      y of the shape of x, and log|det dy/dx| of the batch shape.

    Raises:
      ValueError: wrong rank, non-floating dtype, channel mismatch or a kernel
        that is not (k, k, c, c).

    Examples:
      >>> import jax, jax.numpy as jnp
      >>> params = init(jax.random.PRNGKey(0), 4)
      >>> x = jax.random.normal(jax.random.PRNGKey(1), (2, 8, 8, 4))
      >>> y, log_det = forward(params, x)
      >>> x_back, _ = inverse(params, y, method="scan")
      >>> bool(jnp.allclose(x_back, x, rtol=0, atol=1e-5 * jnp.abs(x).max()))
      True
    """
    _check(params, x)
    y = _causal_conv.conv(effective_kernel(params), x, _anchor(params))
    return y, _log_det(params, x)


def inverse_filter(
    params: Params, height: int, width: int, dtype: Optional[jnp.dtype] = None
) -> tuple[jax.Array, jax.Array]:
    """Impulse response h of the inverse on a height x width image, and its gain.

    x[i, j] = sum_{m <= i, n <= j} h[m, n]^T @ y[i - m, j - n] for every input y.

    Args:
      params: `Params` for c channels.
      height: H.
      width: W.
      dtype: dtype of the computation (default: the kernel's).

    Returns:
      h of shape (H, W, c_in, c_out) (HWIO, as the kernel), and the gain
      max_o sum |h[:, :, :, o]|, an upper bound on ||f^{-1}||_inf (inf when h
      overflows).
    """
    _, channels = _check_params(params)
    dtype = params.kernel.dtype if dtype is None else dtype
    impulses = jnp.zeros((channels, height, width, channels), dtype)
    impulses = impulses.at[:, 0, 0, :].set(jnp.eye(channels, dtype=dtype))
    response = _causal_conv.solve_wavefront(
        effective_kernel(params),
        impulses,
        _anchor(params),
        unit_diagonal=params.log_diag is None,
    )  # (c_in, H, W, c_out)
    h = jnp.transpose(response, (1, 2, 0, 3))
    gain = jnp.max(jnp.sum(jnp.abs(h), axis=(0, 1, 2)))
    # An overflowing response gives inf - inf = NaN inside h: report it as inf.
    return h, jnp.where(jnp.isnan(gain), jnp.inf, gain)


def apply_inverse_filter(h: jax.Array, y: jax.Array) -> jax.Array:
    """X = h * y (causal, truncated to the image) by FFT with 2H x 2W padding."""
    height, width = y.shape[-3], y.shape[-2]
    size = (2 * height, 2 * width)
    h_f = jnp.fft.rfft2(h, s=size, axes=(0, 1))
    y_f = jnp.fft.rfft2(y, s=size, axes=(-3, -2))
    x_f = jnp.einsum(
        "...fgi,fgio->...fgo", y_f, h_f, precision=jax.lax.Precision.HIGHEST
    )
    x = jnp.fft.irfft2(x_f, s=size, axes=(-3, -2))
    return x[..., :height, :width, :].astype(y.dtype)


def _solve(
    params: Params, y: jax.Array, method: str, max_gain: Optional[float]
) -> tuple[jax.Array, jax.Array, jax.Array]:
    """(x, gain bound, used_filter); the gain is NaN for methods that skip it."""
    _validation.check_choice(method, METHODS, _NAME, "method")
    return _solve_jit(params, y, method, max_gain)


@functools.partial(jax.jit, static_argnames=("method", "max_gain"))
def _solve_jit(
    params: Params, y: jax.Array, method: str, max_gain: Optional[float]
) -> tuple[jax.Array, jax.Array, jax.Array]:
    kernel = effective_kernel(params)
    unit = params.log_diag is None
    anchor = _anchor(params)
    if method in _causal_conv.SOLVERS:
        x = _causal_conv.SOLVERS[method](kernel, y, anchor, unit_diagonal=unit)
        return x, jnp.full((), jnp.nan, y.dtype), jnp.zeros((), bool)
    h, gain = inverse_filter(params, y.shape[-3], y.shape[-2], y.dtype)
    limit = default_max_gain(y.dtype) if max_gain is None else max_gain
    safe = jnp.isfinite(gain) & (gain <= limit)
    x = jax.lax.cond(
        safe,
        lambda: apply_inverse_filter(h, y),
        lambda: _causal_conv.solve_wavefront(kernel, y, anchor, unit_diagonal=unit),
    )
    return x, gain, safe


def inverse(
    params: Params,
    y: jax.Array,
    *,
    method: str = "fast",
    max_gain: Optional[float] = None,
) -> tuple[jax.Array, jax.Array]:
    """X = f^{-1}(y) by back substitution; returns (x, log|det dx/dy|).

    Args:
      params: `Params` for c channels.
      y: output of shape (..., height, width, c).
      method: one of `METHODS` (module docstring); default "fast".
      max_gain: the filter's gain threshold (default `default_max_gain`).

    Returns:
      x of the shape of y, and log|det dx/dy| of the batch shape.

    Raises:
      ValueError: bad shapes or dtype (as `forward`) or an unknown method.
    """
    _check(params, y)
    x, _, _ = _solve(params, y, method, max_gain)
    return x, -_log_det(params, y)


def solve(
    params: Params,
    y: jax.Array,
    *,
    method: str = "fast",
    max_gain: Optional[float] = None,
    tol: Optional[float] = None,
) -> InverseResult:
    """`inverse`'s x with a report (`ops.inverse_result`; one extra forward).

    The report has the relative residual per example, `converged` = residual <=
    tol (`default_tolerance` of the dtype unless given), iterations 0 (a direct
    solve), the centre tap's min |diag|, the gain bound (always computed: one
    wavefront solve of c impulses) and whether the inverse filter was used.

    Raises:
      ValueError: as `inverse`.

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
    _check(params, y)
    x, gain, used_filter = _solve(params, y, method, max_gain)
    if method != "filter":
        _, gain = inverse_filter(params, y.shape[-3], y.shape[-2], y.dtype)
    return inverse_result.of_direct_solve(
        x,
        forward(params, x)[0],
        y,
        tol=tol,
        min_abs_diagonal=min_abs_diagonal(params),
        gain_bound=gain,
        used_filter=used_filter,
    )


def with_method(method: str = "fast") -> Block:
    """`forward` and `inverse` with the solver fixed; ValueError if not in METHODS."""
    _validation.check_choice(method, METHODS, _NAME, "method")
    return Block(forward, functools.partial(inverse, method=method))
