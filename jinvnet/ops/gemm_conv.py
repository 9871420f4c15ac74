"""A zero-padded "SAME" k x k convolution written as matrix products (for XLA:CPU).

    y[n, h, w, o] = sum_{a, b, i} x[n, h + a - r, w + b - r, i] K[a, b, i, o],
    r = k // 2, x = 0 outside the image; K in HWIO layout.

The same function as `jax.lax.conv_general_dilated(x, K, (1, 1), "SAME")`; only the
order of the additions differs. Why: XLA:CPU runs the gradients of a convolution
(and the forward of a wide-to-narrow one) as generic convolutions, well below the
speed of its matrix products, which dominated the backward pass of a Glow training
step (docs/benchmarks.md, "Training throughput"). Here the forward pass and both
gradients are each one matrix product plus k^2 shifted copies, always of the narrow
side (the k^2 copies are made of min(in, out) channels):

    taps(v, s)[n, h, w, (a, b, c)] = v[n, h + s (a - r), w + s (b - r), c]
    gather(z, s)[n, h, w, c] = sum_{a, b} z[n, h + s (a - r), w + s (b - r), (a, b, c)]

    forward  y  = taps(x, +1) K_(abi, o)               if in <= out
             y  = gather(x K_(i, abo), +1)             otherwise
    input    dx = taps(dy, -1) K_(abo, i)              if out <= in
             dx = gather(dy K_(o, abi), -1)            otherwise
    kernel   dK = taps(x, +1)^T dy                     if in <= out
             dK = x^T taps(dy, -1)                     otherwise

`jinvnet.ops.conv_net` uses it on the CPU backend for layers with a side of at
least `MIN_WIDE_CHANNELS` channels, where it measured faster, and XLA's convolution
elsewhere and on accelerators (docs/benchmarks.md, "Training throughput"). Inside
`looped()` (a loop body, e.g. `models.ScannedSteps`) the CPU takes it at every
width, and the causal convolutions of CInC and emerging take it too.

Example (the same numbers as `lax.conv_general_dilated`):

    >>> import jax, jax.numpy as jnp
    >>> x = jax.random.normal(jax.random.PRNGKey(0), (2, 6, 6, 64))
    >>> kernel = jax.random.normal(jax.random.PRNGKey(1), (3, 3, 64, 8)) / 24
    >>> reference = jax.lax.conv_general_dilated(
    ...     x, kernel, (1, 1), "SAME", dimension_numbers=("NHWC", "HWIO", "NHWC"),
    ...     precision=jax.lax.Precision.HIGHEST)
    >>> bool(jnp.allclose(conv(x, kernel), reference, atol=1e-4))
    True
    >>> preferred(64, 8) == (jax.default_backend() == "cpu")   # a side >= 64, on CPU
    True
    >>> with disabled():                  # conv_net then uses XLA's conv (forward mode)
    ...     preferred(64, 8)
    False
    >>> with looped():                    # a loop body: the GEMM form at any width
    ...     preferred(8, 8) == in_loop() == (jax.default_backend() == "cpu")
    True
"""

import contextlib
import functools

import jax
import jax.numpy as jnp


def _taps(v: jax.Array, k: int, sign: int) -> jax.Array:
    """(N, H, W, C) -> (N, H, W, k k C): the k x k neighbours, offset sign (a - r)."""
    r, (height, width) = k // 2, v.shape[1:3]
    padded = jnp.pad(v, ((0, 0), (r, r), (r, r), (0, 0)))
    starts = [a if sign > 0 else 2 * r - a for a in range(k)]
    return jnp.concatenate(
        [padded[:, i : i + height, j : j + width, :] for i in starts for j in starts],
        axis=-1,
    )


def _gather(z: jax.Array, k: int, sign: int) -> jax.Array:
    """(N, H, W, k k C) -> (N, H, W, C): sums tap (a, b) at offset sign (a - r)."""
    r, (n, height, width, kkc) = k // 2, z.shape
    z = z.reshape(n, height, width, k * k, kkc // (k * k))
    total = 0
    for a in range(k):
        for b in range(k):
            # out[h] = tap[h + s (a - r)]: pad (crop where negative) by -s (a - r)
            # before and s (a - r) after along each image axis.
            da, db = sign * (a - r), sign * (b - r)
            total = total + jax.lax.pad(
                z[:, :, :, a * k + b, :],
                jnp.zeros((), z.dtype),
                ((0, 0, 0), (-da, da, 0), (-db, db, 0), (0, 0, 0)),
            )
    return total


def _forward(x: jax.Array, kernel: jax.Array) -> jax.Array:
    k, _, c_in, c_out = kernel.shape
    if c_in <= c_out:
        return jnp.einsum("nhwp,po->nhwo", _taps(x, k, 1), kernel.reshape(-1, c_out))
    by_tap = jnp.transpose(kernel, (2, 0, 1, 3)).reshape(c_in, -1)
    return _gather(jnp.einsum("nhwi,iq->nhwq", x, by_tap), k, 1)


@jax.custom_vjp
def conv(x: jax.Array, kernel: jax.Array) -> jax.Array:
    """The "SAME" convolution of x (N, H, W, in) with kernel (k, k, in, out), k odd.

    Returns:
      y of shape (N, H, W, out), equal to `jax.lax.conv_general_dilated(x, kernel,
      (1, 1), "SAME", dimension_numbers=("NHWC", "HWIO", "NHWC"))` up to rounding.

    Raises:
      ValueError: x not of rank 4, a non-square or even kernel, or a channel
        mismatch.

    Examples:
      >>> import jax, numpy as np
      >>> x = jax.random.normal(jax.random.PRNGKey(0), (2, 5, 5, 3))
      >>> kernel = jax.random.normal(jax.random.PRNGKey(1), (3, 3, 3, 8))
      >>> reference = jax.lax.conv_general_dilated(
      ...     x, kernel, (1, 1), "SAME", dimension_numbers=("NHWC", "HWIO", "NHWC"))
      >>> bool(np.allclose(conv(x, kernel), reference, atol=1e-4))
      True
    """
    _check(x, kernel)
    return _forward(x, kernel)


def _check(x: jax.Array, kernel: jax.Array) -> None:
    k, k2, c_in, _ = kernel.shape
    if x.ndim != 4 or k != k2 or k % 2 == 0 or x.shape[-1] != c_in:
        raise ValueError(
            f"gemm_conv: expected x (N, H, W, C) and an odd square kernel (k, k, C, "
            f"out), got x {x.shape} and kernel {kernel.shape}"
        )


def _conv_fwd(x, kernel):
    _check(x, kernel)
    return _forward(x, kernel), (x, kernel)


def _conv_bwd(saved, dy):
    x, kernel = saved
    k, _, c_in, c_out = kernel.shape
    if c_out <= c_in:
        dy_taps = _taps(dy, k, -1)
        by_out = jnp.transpose(kernel, (0, 1, 3, 2)).reshape(-1, c_in)
        dx = jnp.einsum("nhwq,qi->nhwi", dy_taps, by_out)
        dk = jnp.einsum("nhwq,nhwi->qi", dy_taps, x)
        dk = jnp.transpose(dk.reshape(k, k, c_out, c_in), (0, 1, 3, 2))
    else:
        by_in = jnp.transpose(kernel, (3, 0, 1, 2)).reshape(c_out, -1)
        dx = _gather(jnp.einsum("nhwo,oq->nhwq", dy, by_in), k, -1)
        dk = jnp.einsum("nhwp,nhwo->po", _taps(x, k, 1), dy).reshape(kernel.shape)
    return dx, dk


conv.defvjp(_conv_fwd, _conv_bwd)


# The smallest channel count, on the wider side, from which this form is used on the
# CPU (faster at widths 64 and 128, slower at 32: docs/benchmarks.md).
MIN_WIDE_CHANNELS = 64


@functools.cache
def _on_cpu() -> bool:
    return jax.default_backend() == "cpu"


_disabled = [False]
_looped = [False]


def preferred(in_channels: int, out_channels: int) -> bool:
    """Whether to use `conv` here rather than XLA's convolution.

    On the CPU backend, for a side of at least `MIN_WIDE_CHANNELS` channels, or any
    width inside `looped()`; never inside `disabled()`.
    """
    wide = max(in_channels, out_channels) >= MIN_WIDE_CHANNELS
    return in_loop() or (_on_cpu() and wide and not _disabled[0])


def in_loop() -> bool:
    """Whether code traced now is a loop body on the CPU (`looped()`, not `disabled()`).

    Convolutions that take the GEMM form only inside loops (the causal ones of CInC
    and emerging) ask this; `preferred` is then True for every width.
    """
    return _on_cpu() and _looped[0] and not _disabled[0]


@contextlib.contextmanager
def looped():
    """Marks a loop body: on the CPU its convolutions take the GEMM form.

    Functions traced inside (the body of a `lax.scan` or loop) get `preferred`
    True for every width, on the CPU backend.

    Inside a compiled loop XLA:CPU's convolution gradients measured an order of
    magnitude slower than written out, the GEMM form's did not (docs/benchmarks.md,
    "Compile time"). `disabled()` still wins.
    """
    with _set(_looped):
        yield


@contextlib.contextmanager
def _set(flag: list[bool]):
    """Sets a module flag for the duration of the context."""
    previous, flag[0] = flag[0], True
    try:
        yield
    finally:
        flag[0] = previous


@contextlib.contextmanager
def disabled():
    """Functions traced inside use XLA's convolutions (e.g. for `jax.jacfwd`).

    `conv` has a hand-written reverse-mode derivative only: forward mode
    (`jax.jvp`, `jax.jacfwd`, `jax.hessian`) of a network that uses it raises
    "TypeError: can't apply forward-mode autodiff (jvp) to a custom_vjp function".
    Trace such a computation inside this context instead.

    Examples:
      >>> import jax, jax.numpy as jnp
      >>> from jinvnet.ops import conv_net
      >>> params = conv_net.init(jax.random.PRNGKey(0), 2, 4, hidden_channels=64)
      >>> x = jnp.ones((1, 3, 3, 2))
      >>> with disabled():
      ...     jacobian = jax.jacfwd(lambda x: conv_net.apply(params, x))(x)
      >>> jacobian.shape
      (1, 3, 3, 4, 1, 3, 3, 2)
    """
    with _set(_disabled):
        yield
