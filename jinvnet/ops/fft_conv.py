"""Circular k x k convolution in the Fourier domain (seed 000, Finzi et al. 2019).

Params: `Params(kernel)`, a kernel of shape (k, k, c, c) in HWIO layout (kernel[a, b,
i, o] maps input channel i to output channel o), with k <= height and k <= width.

Convention: the forward map is a cross-correlation with circular ("wrap") padding,
exactly `jax.lax.conv_general_dilated(jnp.pad(x, pads, mode="wrap"), kernel, (1, 1),
"VALID", dimension_numbers=("NHWC", "HWIO", "NHWC"))` with pads ((k-1)//2, k//2)
before/after on both spatial axes, i.e. with p = (k - 1) // 2,

    y[i, j, o] = sum_{a, b, c} x[(i + a - p) % H, (j + b - p) % W, c] kernel[a, b, c, o]

In the Fourier basis it is block diagonal with one c x c complex block per frequency
f = (u, v):

    A_f[o, c] = sum_{a, b} kernel[a, b, c, o] exp(2 pi i (u (a-p) / H + v (b-p) / W))
              = conj(FFT2(kernel zero-padded to H x W, centred at tap (p, p)))[f, c, o],

    forward:  Y_f = A_f X_f,  y = IFFT2(Y)                        (X = FFT2(x))
    inverse:  X_f = A_f^{-1} Y_f, x = IFFT2(X)                    (seed eq. 1)
    log|det dy/dx| = sum_f log|det A_f|                           (seed eq. 2)
    log|det dx/dy| = -sum_f log|det A_f|

Since x and the kernel are real, A_{-f} = conj(A_f), so forward and inverse run on the
rfft2 half spectrum (v = 0 .. W // 2). The log-det has three paths
(`log_det_method`), all exact:

- "complex": log|det| of every complex block A_f (all H * W of them);
- "lifting": the seed's real lifting phi(A + iB) = [[A, -B], [B, A]], with
  log|det A_f| = 0.5 log|det phi(A_f)| (real linear algebra only);
- "rfft": conjugate symmetry: one block of every pair {f, -f} counts twice and the
  self-conjugate frequencies (u in {0, H/2}, v in {0, W/2}), whose blocks are real,
  count once: H W / 2 - 2 complex and 4 real determinants for even H and W
  instead of H W complex ones.

Every inverse and log|det| of the c x c blocks is computed by
`small_linalg.inv_and_log_abs_det` (Gauss-Jordan with partial pivoting in plain
XLA): jaxlib's batched LAPACK calls can deadlock XLA:CPU's thread pool when two run
side by side (docs/training.md, "Known platform issues").

"rfft" is the default (the fastest, see docs/benchmarks.md). The Jacobian does not
depend on x, so log-dets are constants broadcast to the batch shape. A singular
kernel (A_f singular at some f) gives log_det = -inf and a non-finite inverse;
`singular_values` and `condition_number` expose the conditioning (the singular values
of the whole convolution are those of the blocks A_f).

Example (singular values and the log-det paths):

    >>> import jax, jax.numpy as jnp
    >>> params = init(jax.random.PRNGKey(0), 3, orthogonal=False, init_scale=0.0)
    >>> s = singular_values(params, 4, 4)     # the identity kernel: every sigma is 1
    >>> s.shape, bool(jnp.allclose(s, 1.0))
    ((4, 3, 3), True)
    >>> check_log_det_method("lifting")       # raises ValueError for an unknown name
    >>> x = jax.random.normal(jax.random.PRNGKey(1), (2, 4, 4, 3))
    >>> y, log_det = with_log_det_method("complex").forward(params, x)   # a Block
    >>> bool(jnp.allclose(y, x, atol=1e-6)), bool(jnp.allclose(log_det, 0.0, atol=1e-5))
    (True, True)
"""

import functools
from typing import NamedTuple, Optional

import chex
import jax
import jax.numpy as jnp
import numpy as np

from jinvnet import _validation
from jinvnet.ops import small_linalg
from jinvnet.ops.block import Block

_NAME = "fft_conv"
LOG_DET_METHODS = ("complex", "lifting", "rfft")
DEFAULT_LOG_DET_METHOD = "rfft"


class Params(NamedTuple):
    """The convolution kernel, of shape (k, k, channels, channels) (HWIO)."""

    kernel: jax.Array


def init(
    key: chex.PRNGKey,
    channels: int,
    *,
    kernel_size: int = 3,
    init_scale: Optional[float] = None,
    orthogonal: bool = True,
    dtype: jnp.dtype = jnp.float32,
) -> Params:
    """A kernel whose centre tap is a random rotation (or the identity) plus noise.

    Args:
      key: PRNG key.
      channels: c, the number of input and output channels.
      kernel_size: k (default 3).
      init_scale: standard deviation s of the N(0, s^2) noise added to every tap;
        None (default) is 0.01.
      orthogonal: centre tap a random orthogonal matrix (default True) or the
        identity.
      dtype: parameter dtype (default float32).

    Returns:
      `Params` with a (k, k, c, c) kernel; at init_scale = 0 the layer is an
      orthogonal map with log-det 0.
    """
    _validation.check_positive_int(channels, _NAME, "channels")
    _validation.check_positive_int(kernel_size, _NAME, "kernel_size")
    _validation.check_dtype(dtype, _NAME, "parameter dtype")
    k_rot, k_noise = jax.random.split(key)
    if orthogonal:
        centre, _ = jnp.linalg.qr(jax.random.normal(k_rot, (channels, channels), dtype))
    else:
        centre = jnp.eye(channels, dtype=dtype)
    p = (kernel_size - 1) // 2
    shape = (kernel_size, kernel_size, channels, channels)
    noise = 0.01 if init_scale is None else init_scale
    kernel = noise * jax.random.normal(k_noise, shape, dtype)
    return Params(kernel=kernel.at[p, p].add(centre))


def _check_kernel(params: Params, height: int, width: int) -> None:
    shape = tuple(jnp.shape(params.kernel))
    if len(shape) != 4 or shape[0] != shape[1] or shape[2] != shape[3]:
        raise ValueError(
            f"{_NAME}: kernel must have shape (k, k, channels, channels) (square "
            f"taps, as many output as input channels), got shape {shape}"
        )
    _validation.check_dtype(jnp.result_type(params.kernel), _NAME, "kernel")
    k = shape[0]
    if k > height or k > width:
        raise ValueError(
            f"{_NAME}: kernel size {k} is larger than the image ({height} x {width}); "
            f"a circular convolution needs k <= height and k <= width"
        )


def _check(params: Params, x: jax.Array) -> None:
    _validation.check_image(x, _NAME)
    _check_kernel(params, x.shape[-3], x.shape[-2])
    _validation.check_image(x, _NAME, channels=params.kernel.shape[-1])


def _blocks_at(
    params: Params,
    frequencies: list[tuple[int, int]],
    height: int,
    width: int,
    *,
    transposed: bool = False,
) -> jax.Array:
    """A_f[o, c] at the given frequencies f = (u, v): shape (len(frequencies), c, c).

    With `transposed=True` it returns A_f^T[c, o] instead, the layout in which the
    product below needs no transpose; log-dets use it (|det A^T| = |det A|).

    Evaluates the module docstring's sum over the k x k taps directly (a DFT of
    only the non-zero taps, as one real matrix product for the cosine and one for
    the sine part), which is cheaper than an FFT of the kernel zero-padded to
    H x W, and evaluates only the frequencies asked for.
    """
    kernel = params.kernel
    k = kernel.shape[0]
    offsets = np.arange(k) - (k - 1) // 2
    rows, columns = np.array(frequencies, np.int64).reshape(-1, 2).T
    turns = (
        rows[:, None, None] * offsets[None, :, None] / height
        + columns[:, None, None] * offsets[None, None, :] / width
    )
    phase = 2.0 * np.pi * turns
    # Snap the exact zeros (sin(pi) is 1.2e-16 in floating point) so that blocks at
    # self-conjugate frequencies are exactly real and a singular block exactly 0.
    cos, sin = (
        np.where(np.abs(t) < 1e-12, 0.0, t) for t in (np.cos(phase), np.sin(phase))
    )
    cos, sin = jnp.asarray(cos, kernel.dtype), jnp.asarray(sin, kernel.dtype)
    layout = "fab,abco->fco" if transposed else "fab,abco->foc"
    real = jnp.einsum(layout, cos, kernel, precision=jax.lax.Precision.HIGHEST)
    imag = jnp.einsum(layout, sin, kernel, precision=jax.lax.Precision.HIGHEST)
    return jax.lax.complex(real, imag)


def _blocks(
    params: Params, height: int, width: int, half: bool, *, transposed: bool = False
) -> jax.Array:
    """A_f[o, c] for every frequency: shape (H, W // 2 + 1 or W, c, c), complex.

    `half=True` gives the rfft2 layout (v = 0 .. W // 2); `transposed` as in
    `_blocks_at`.
    """
    num_columns = width // 2 + 1 if half else width
    frequencies = [(u, v) for u in range(height) for v in range(num_columns)]
    blocks = _blocks_at(params, frequencies, height, width, transposed=transposed)
    return blocks.reshape((height, num_columns) + blocks.shape[-2:])


def _lift(a: jax.Array) -> jax.Array:
    """phi(A + iB) = [[A, -B], [B, A]], real of shape (..., 2c, 2c)."""
    top = jnp.concatenate([a.real, -a.imag], axis=-1)
    bottom = jnp.concatenate([a.imag, a.real], axis=-1)
    return jnp.concatenate([top, bottom], axis=-2)


def _unique_blocks(
    params: Params, height: int, width: int
) -> tuple[jax.Array, jax.Array]:
    """The blocks A_f^T at one frequency of every conjugate pair, and the real ones.

    Frequencies f and -f have conjugate blocks (equal |det|), so the sum over all
    H * W frequencies is 2 * sum over one of each pair + sum over the self-conjugate
    frequencies (u in {0, H/2}, v in {0, W/2}, halves only for even sizes), whose
    blocks are real. Of the rfft2 half spectrum (v = 0 .. W // 2) this keeps every
    row of the interior columns 0 < v < W / 2 and rows 0 < u < H / 2 of the edge
    columns v = 0 (and v = W / 2): H * W / 2 - 2 complex blocks and 4 real ones for
    even H and W, against H * W complex blocks for the full spectrum.

    Returns:
      (paired, real): complex (n_pairs, c, c) and real (n_self, c, c) blocks.
    """
    edge_columns = [0] + ([width // 2] if width % 2 == 0 else [])
    self_rows = [0] + ([height // 2] if height % 2 == 0 else [])
    interior = [(u, v) for u in range(height) for v in range(1, (width + 1) // 2)]
    edges = [(u, v) for v in edge_columns for u in range(1, (height + 1) // 2)]
    self_conjugate = [(u, v) for u in self_rows for v in edge_columns]
    paired = _blocks_at(params, interior + edges, height, width, transposed=True)
    real = _blocks_at(params, self_conjugate, height, width, transposed=True).real
    return paired, real


def log_det(
    params: Params,
    height: int,
    width: int,
    log_det_method: str = DEFAULT_LOG_DET_METHOD,
) -> jax.Array:
    """log|det| of the circular convolution on height x width images (seed eq. 2).

    Args:
      params: `Params` with a (k, k, c, c) kernel.
      height: image height H >= k.
      width: image width W >= k.
      log_det_method: "complex", "lifting" or "rfft" (default "rfft"); see the
        module docstring.

    Returns:
      A scalar of the kernel's dtype; -inf if some block A_f is singular.

    Raises:
      ValueError: bad kernel shape, kernel larger than the image, unknown method.

    Examples:
      >>> import jax
      >>> params = init(jax.random.PRNGKey(0), 4, init_scale=0.1)
      >>> values = [log_det(params, 6, 5, m) for m in LOG_DET_METHODS]
      >>> bool(jnp.allclose(values[0], values[1], atol=1e-4))
      True
      >>> bool(jnp.allclose(values[0], values[2], atol=1e-4))
      True
    """
    _check_kernel(params, height, width)
    check_log_det_method(log_det_method)
    dtype = params.kernel.dtype
    if log_det_method == "rfft":
        paired, real = _unique_blocks(params, height, width)
        logabs = small_linalg.log_abs_det(
            jnp.concatenate([paired, real.astype(paired.dtype)])
        )
        counts = jnp.concatenate(
            [jnp.full(len(paired), 2.0, dtype), jnp.ones(len(real), dtype)]
        )
        return jnp.sum(counts * logabs).astype(dtype)
    blocks = _blocks(params, height, width, half=False, transposed=True)
    if log_det_method == "lifting":
        logabs = small_linalg.log_abs_det(_lift(blocks))
        return (0.5 * jnp.sum(logabs)).astype(dtype)
    return jnp.sum(small_linalg.log_abs_det(blocks)).astype(dtype)


def _batched_log_det(params: Params, x: jax.Array, log_det_method: str) -> jax.Array:
    value = log_det(params, x.shape[-3], x.shape[-2], log_det_method)
    return jnp.broadcast_to(value, _validation.event_batch_shape(x)).astype(x.dtype)


def forward(
    params: Params, x: jax.Array, *, log_det_method: str = DEFAULT_LOG_DET_METHOD
) -> tuple[jax.Array, jax.Array]:
    """Computes y = the circular cross-correlation of x with the kernel, via rfft2.

    Args:
      params: `Params` with a (k, k, c, c) kernel.
      x: input of shape (..., height, width, c), k <= height, width.
      log_det_method: "complex", "lifting" or "rfft" (default).

    Returns:
      y of the shape of x, and log|det dy/dx| of the batch shape.

    Raises:
      ValueError: wrong rank or dtype, channel mismatch, non-square kernel, kernel
        larger than the image, unknown log_det_method.

    Examples:
      >>> import jax
      >>> params = init(jax.random.PRNGKey(0), 3, init_scale=0.1)
      >>> x = jax.random.normal(jax.random.PRNGKey(1), (2, 5, 6, 3))
      >>> y, ld = forward(params, x)
      >>> x_back, _ = inverse(params, y)
      >>> bool(jnp.allclose(x_back, x, rtol=0, atol=1e-5 * jnp.abs(x).max()))
      True
      >>> ld.shape
      (2,)
    """
    _check(params, x)
    height, width = x.shape[-3], x.shape[-2]
    a = _blocks(params, height, width, half=True)
    spectrum = jnp.fft.rfft2(x, axes=(-3, -2))
    out = jnp.einsum(
        "hwoc,...hwc->...hwo", a, spectrum, precision=jax.lax.Precision.HIGHEST
    )
    y = jnp.fft.irfft2(out, s=(height, width), axes=(-3, -2)).astype(x.dtype)
    return y, _batched_log_det(params, x, log_det_method)


def inverse(
    params: Params, y: jax.Array, *, log_det_method: str = DEFAULT_LOG_DET_METHOD
) -> tuple[jax.Array, jax.Array]:
    """Computes x = IFFT2(A_f^{-1} FFT2(y)_f): a c x c solve per frequency (eq. 1).

    One inverse A_f^{-1} per frequency of the rfft2 half spectrum serves every
    example of the batch and, for the default "rfft" method, its elimination's
    pivots give the log-det too (log|det A_f| = sum_k log|d_k|, columns
    0 < v < W / 2 counted twice for their conjugates). Returns (x, log|det dx/dy|);
    x is NaN if the kernel is singular (check `condition_number`).
    """
    _check(params, y)
    check_log_det_method(log_det_method)
    height, width = y.shape[-3], y.shape[-2]
    batch = _validation.event_batch_shape(y)
    a = _blocks(params, height, width, half=True)
    a_inverse, logabs = small_linalg.inv_and_log_abs_det(a)
    spectrum = jnp.fft.rfft2(y, axes=(-3, -2))
    solved = jnp.einsum(
        "hwco,...hwo->...hwc", a_inverse, spectrum, precision=jax.lax.Precision.HIGHEST
    )
    x = jnp.fft.irfft2(solved, s=(height, width), axes=(-3, -2)).astype(y.dtype)
    if log_det_method == "rfft":  # reuse the elimination's pivots
        value = jnp.sum(logabs * _column_weights(width, logabs.dtype))
        log_det_y = jnp.broadcast_to(value, batch).astype(y.dtype)
    else:
        log_det_y = _batched_log_det(params, y, log_det_method)
    return x, -log_det_y


def _column_weights(width: int, dtype: jnp.dtype) -> jax.Array:
    """Weights of the rfft2 columns: 1 for v = 0 (and v = W / 2 for even W), else 2."""
    weights = np.full(width // 2 + 1, 2.0)
    weights[0] = 1.0
    if width % 2 == 0:
        weights[-1] = 1.0
    return jnp.asarray(weights, dtype)


def check_log_det_method(log_det_method: str) -> None:
    """Raises a ValueError unless `log_det_method` is one of `LOG_DET_METHODS`."""
    if log_det_method not in LOG_DET_METHODS:
        raise ValueError(
            f"{_NAME}: log_det_method must be one of {LOG_DET_METHODS}, "
            f"got {log_det_method!r}"
        )


def with_log_det_method(log_det_method: str = DEFAULT_LOG_DET_METHOD) -> Block:
    """`forward` and `inverse` with the log-det path fixed, as a `Block`."""
    check_log_det_method(log_det_method)
    return Block(
        functools.partial(forward, log_det_method=log_det_method),
        functools.partial(inverse, log_det_method=log_det_method),
    )


def singular_values(params: Params, height: int, width: int) -> jax.Array:
    """Singular values of every block A_f on the rfft2 half spectrum.

    These are the singular values of the whole convolution on height x width images
    (the left-out conjugate blocks have the same ones).

    Returns:
      An array of shape (height, width // 2 + 1, c), descending along the last axis.
    """
    _check_kernel(params, height, width)
    a = _blocks(params, height, width, half=True)
    return jnp.linalg.svd(a, compute_uv=False).astype(params.kernel.dtype)


def condition_number(params: Params, height: int, width: int) -> jax.Array:
    """The max / min singular value of the convolution (inf when it is singular).

    A value near 1 / eps (about 1e7 in float32, 1e16 in float64) or inf means the
    inverse is meaningless and the log-det very negative or -inf.

    Examples:
      >>> import jax.numpy as jnp
      >>> taps = jnp.zeros((2, 2, 1, 1)).at[0, :].set(1.0)  # x[j] + x[j + 1]
      >>> bool(condition_number(Params(taps), 4, 4) > 1e6)   # zero at v = W / 2
      True
    """
    values = singular_values(params, height, width)
    smallest = jnp.min(values)
    largest = jnp.max(values)
    singular = smallest == 0  # NaN parameters give NaN, not inf
    return jnp.where(singular, jnp.inf, largest / jnp.where(singular, 1, smallest))
