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

- "complex": `jnp.linalg.slogdet` of every complex block A_f (all H * W of them);
- "lifting": the seed's real lifting phi(A + iB) = [[A, -B], [B, A]], with
  log|det A_f| = 0.5 log|det phi(A_f)| (real linear algebra only);
- "rfft": the half spectrum: columns v = 1 .. ceil(W / 2) - 1 count twice (their
  conjugates v' = W - v are left out), the self-conjugate columns v = 0 and, for even
  W, v = W / 2 count once.

"rfft" is the default (the fastest, see docs/benchmarks.md). The Jacobian does not
depend on x, so log-dets are constants broadcast to the batch shape. A singular
kernel (A_f singular at some f) gives log_det = -inf and a non-finite inverse;
`singular_values` and `condition_number` expose the conditioning (the singular values
of the whole convolution are those of the blocks A_f).
"""

import functools
from typing import NamedTuple

import chex
import jax
import jax.numpy as jnp

from jinvnet import _validation
from jinvnet.ops.reversible_stack import Block

_NAME = "fft_conv"
LOG_DET_METHODS = ("complex", "lifting", "rfft")
DEFAULT_LOG_DET_METHOD = "rfft"


class Params(NamedTuple):
    """The convolution kernel, of shape (k, k, channels, channels) (HWIO)."""

    kernel: jax.Array


def init(
    key: chex.PRNGKey,
    channels: int,
    kernel_size: int = 3,
    *,
    noise: float = 0.01,
    orthogonal: bool = True,
    dtype: jnp.dtype = jnp.float32,
) -> Params:
    """A kernel whose centre tap is a random rotation (or the identity) plus noise.

    Args:
      key: PRNG key.
      channels: c, the number of input and output channels.
      kernel_size: k (default 3).
      noise: standard deviation of the N(0, noise^2) noise added to every tap
        (default 0.01).
      orthogonal: centre tap a random orthogonal matrix (default True) or the
        identity.
      dtype: parameter dtype (default float32).

    Returns:
      `Params` with a (k, k, c, c) kernel; at noise = 0 the layer is an orthogonal
      map with log-det 0.
    """
    _validation.check_positive_int(channels, _NAME, "channels")
    _validation.check_positive_int(kernel_size, _NAME, "kernel_size")
    k_rot, k_noise = jax.random.split(key)
    if orthogonal:
        centre, _ = jnp.linalg.qr(jax.random.normal(k_rot, (channels, channels), dtype))
    else:
        centre = jnp.eye(channels, dtype=dtype)
    p = (kernel_size - 1) // 2
    shape = (kernel_size, kernel_size, channels, channels)
    kernel = noise * jax.random.normal(k_noise, shape, dtype)
    return Params(kernel=kernel.at[p, p].add(centre))


def _check_kernel(params: Params, height: int, width: int) -> None:
    shape = tuple(jnp.shape(params.kernel))
    if len(shape) != 4 or shape[0] != shape[1] or shape[2] != shape[3]:
        raise ValueError(
            f"{_NAME}: kernel must have shape (k, k, channels, channels) (square "
            f"taps, as many output as input channels), got shape {shape}"
        )
    _validation.check_floating(params.kernel, _NAME)
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


def _blocks(params: Params, height: int, width: int, half: bool) -> jax.Array:
    """A_f[o, c] for every frequency: shape (H, W // 2 + 1 or W, c, c), complex."""
    kernel = params.kernel
    k = kernel.shape[0]
    p = (k - 1) // 2
    padded = jnp.pad(kernel, ((0, height - k), (0, width - k), (0, 0), (0, 0)))
    centred = jnp.roll(padded, (-p, -p), axis=(0, 1))
    spectrum = (jnp.fft.rfft2 if half else jnp.fft.fft2)(centred, axes=(0, 1))
    return jnp.conj(jnp.swapaxes(spectrum, -1, -2))


def _lift(a: jax.Array) -> jax.Array:
    """phi(A + iB) = [[A, -B], [B, A]], real of shape (..., 2c, 2c)."""
    top = jnp.concatenate([a.real, -a.imag], axis=-1)
    bottom = jnp.concatenate([a.imag, a.real], axis=-1)
    return jnp.concatenate([top, bottom], axis=-2)


def _column_weights(width: int, dtype: jnp.dtype) -> jax.Array:
    """rfft2 column weights: 1 for v = 0 (and v = W / 2 if W is even), else 2."""
    weights = jnp.full((width // 2 + 1,), 2.0, dtype).at[0].set(1.0)
    if width % 2 == 0:
        weights = weights.at[-1].set(1.0)
    return weights


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
      >>> params = init(jax.random.PRNGKey(0), 4, noise=0.1)
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
        _, logabs = jnp.linalg.slogdet(_blocks(params, height, width, half=True))
        return jnp.sum(logabs.astype(dtype) * _column_weights(width, dtype))
    blocks = _blocks(params, height, width, half=False)
    if log_det_method == "lifting":
        _, logabs = jnp.linalg.slogdet(_lift(blocks))
        return (0.5 * jnp.sum(logabs)).astype(dtype)
    _, logabs = jnp.linalg.slogdet(blocks)
    return jnp.sum(logabs).astype(dtype)


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
      >>> params = init(jax.random.PRNGKey(0), 3, noise=0.1)
      >>> x = jax.random.normal(jax.random.PRNGKey(1), (2, 5, 6, 3))
      >>> y, ld = forward(params, x)
      >>> x_back, _ = inverse(params, y)
      >>> bool(jnp.allclose(x_back, x, atol=1e-5)), ld.shape
      (True, (2,))
    """
    _check(params, x)
    height, width = x.shape[-3], x.shape[-2]
    a = _blocks(params, height, width, half=True)
    spectrum = jnp.fft.rfft2(x, axes=(-3, -2))
    out = jnp.einsum("hwoc,...hwc->...hwo", a, spectrum)
    y = jnp.fft.irfft2(out, s=(height, width), axes=(-3, -2)).astype(x.dtype)
    return y, _batched_log_det(params, x, log_det_method)


def inverse(
    params: Params, y: jax.Array, *, log_det_method: str = DEFAULT_LOG_DET_METHOD
) -> tuple[jax.Array, jax.Array]:
    """Computes x = IFFT2(A_f^{-1} FFT2(y)_f): a c x c solve per frequency (eq. 1).

    All examples of the batch are solved together as right-hand sides of the same
    factorisation. Returns (x, log|det dx/dy|); x is non-finite if the kernel is
    singular (check `condition_number`).
    """
    _check(params, y)
    height, width = y.shape[-3], y.shape[-2]
    batch = _validation.event_batch_shape(y)
    a = _blocks(params, height, width, half=True)
    spectrum = jnp.fft.rfft2(y, axes=(-3, -2))
    rhs = jnp.moveaxis(spectrum.reshape((-1,) + spectrum.shape[-3:]), 0, -1)
    solved = jnp.moveaxis(jnp.linalg.solve(a, rhs), -1, 0).reshape(spectrum.shape)
    x = jnp.fft.irfft2(solved, s=(height, width), axes=(-3, -2)).astype(y.dtype)
    x = x.reshape(batch + x.shape[-3:])
    return x, -_batched_log_det(params, y, log_det_method)


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
    return jnp.where(
        smallest > 0, largest / jnp.where(smallest > 0, smallest, 1), jnp.inf
    )
