"""Raster-causal convolutions and their exact inverses by back substitution.

Shared by the CInC convolution (Nagar et al. 2021, seeds 001/003) and the emerging
convolution (Hoogeboom et al. 2019). A kernel K of shape (kh, kw, c, c) is stored
in HWIO layout (row, column, in, out), as `lax.conv` and Flax store kernels, with
an *anchor* (ai, aj), the tap that multiplies the current pixel:

    y[i, j] = sum_{a, b} K[a, b]^T @ x[i + a - ai, j + b - aj]    (x = 0 outside)

The convolution is *raster-causal* when every nonzero tap reads a pixel at or
before (i, j) in raster order (row, column): rows a < ai, or row a = ai with
columns b <= aj; and the centre tap's (out, in) matrix A = K[ai, aj]^T is lower
triangular (K[ai, aj] itself upper triangular). The solvers work on the (out, in)
matrices internally (`_batched`). In raster
order (row, column, channel) the Jacobian is then lower triangular with diagonal
diag(A) at every pixel, and y = K * x is solved for x pixel by pixel (back
substitution). Callers mask their kernels; the solvers read only causal taps.

Three exact solvers, tested against each other and a dense solve:

- `solve_scan`: the reference, one `lax.scan` step per pixel in raster order, a
  c x c triangular solve per pixel (H * W sequential steps; the solve multiplies
  by A^{-1}, itself computed once by back substitution).
- `solve_wavefront`: with slope p = 1 + (kw - 1 - aj), pixel (i, j) reads only
  pixels on earlier "hyperplanes" t' = p * i' + j' < t = p * i + j, so all pixels
  of one hyperplane are solved at once: p * (H - 1) + W sequential steps. For the
  quarter-plane CInC kernel p = 1 (anti-diagonals, H + W - 1 steps).
- `solve_rows`: one `lax.scan` step per image row (H sequential steps). The rows
  above are known, so their taps are one matmul; what remains in the row is the 1D
  causal system x_j = A^{-1} (r_j - sum_{b < aj} K[ai, b]^T x_{j + b - aj}), whose
  (W c) x (W c) block lower-triangular Toeplitz inverse is built once from the
  row's impulse response (W c x c blocks, by the same recurrence) and applied as a
  dense matmul. It costs ~W c^2 per pixel for the row part instead of ~kw c^2, in
  few large matmuls; for rows with W c <= `ROWS_MAX_WIDTH` it was the fastest
  exact solver at batch 100 (docs/benchmarks.md, "CInC inverse").

Error: all three are exact up to rounding, which grows with the layer's inverse
gain (about eps * gain relative to max |x| for each; measured side by side in
docs/benchmarks.md, "CInC inverse"). The row solver applies the row's inverse
impulse response like the FFT filter of `cinc.py` does in 2D, but only in 1D: that
response is the first row of the 2D inverse's response, so its gain is at most the
2D gain. tests/ops/test_cinc.py checks that on an ill-conditioned kernel (gain
~4e3, float32 errors ~1e-5) its error stays within 3x of the scan's.
"""

import functools

import jax
import jax.numpy as jnp
import jax.scipy.linalg as jsl
import numpy as np

from jinvnet.ops import gemm_conv

# `solve_rows` is used for rows of at most this many (column, channel) entries:
# its dense row inverse has (W c)^2 entries and ~W c^2 work per pixel.
ROWS_MAX_WIDTH = 1024


def conv(kernel: jax.Array, x: jax.Array, anchor: tuple[int, int]) -> jax.Array:
    """y[i, j] = sum_{a, b} kernel[a, b]^T @ x[i + a - ai, j + b - aj], zero padded.

    Args:
      kernel: (kh, kw, c_in, c_out) (HWIO).
      x: (..., height, width, c_in).
      anchor: (ai, aj), the tap applied to the current pixel.

    Returns:
      y of shape (..., height, width, c_out).
    """
    kh, kw, c_in, c_out = kernel.shape
    r = (kh - 1) // 2
    square = kh == kw and kh % 2 == 1 and min(anchor) >= r
    use_gemm = square and gemm_conv.in_loop()  # decided outside the jit
    return _conv(kernel, x, anchor, use_gemm)


@functools.partial(jax.jit, static_argnames=("anchor", "use_gemm"))
def _conv(
    kernel: jax.Array, x: jax.Array, anchor: tuple[int, int], use_gemm: bool
) -> jax.Array:
    kh, kw = kernel.shape[:2]
    ai, aj = anchor
    flat = x.reshape((-1,) + x.shape[-3:])
    if use_gemm:
        # The "SAME" convolution of x padded by (ai - r, aj - r) at the top and left,
        # cut to the image: the same sums (zeros beyond the image on every side).
        r, (height, width) = (kh - 1) // 2, x.shape[-3:-1]
        padded = jnp.pad(flat, ((0, 0), (ai - r, 0), (aj - r, 0), (0, 0)))
        y = gemm_conv.conv(padded, kernel.astype(x.dtype))[:, :height, :width]
        return y.reshape(x.shape[:-1] + (kernel.shape[3],))
    y = jax.lax.conv_general_dilated(
        flat,
        kernel.astype(x.dtype),
        window_strides=(1, 1),
        padding=((ai, kh - 1 - ai), (aj, kw - 1 - aj)),
        dimension_numbers=("NHWC", "HWIO", "NHWC"),
        precision=jax.lax.Precision.HIGHEST,
    )
    return y.reshape(x.shape[:-1] + (kernel.shape[3],))


def default_init_scale(channels: int, kernel_size: int) -> float:
    """0.1 / sqrt(k^2 c): the default std of a masked kernel's initial taps.

    Fan-in scaling, as `mint.init`: the noise's operator norm then stays ~0.1-0.2
    whatever the width (0.0096 at k = 3, c = 12), where a fixed std makes wide
    layers far from the identity (at 4x4x96, 864 inputs per output channel).
    """
    return 0.1 / float(np.sqrt(kernel_size * kernel_size * channels))


def _batched(kernel: jax.Array, y: jax.Array) -> tuple[jax.Array, jax.Array]:
    """The kernel as (kh, kw, out, in) matrices in y's dtype, and y as one batch axis.

    The solvers below index taps as (out, in) matrices K[a, b]^T; y becomes
    (batch, height, width, c).
    """
    matrices = jnp.swapaxes(kernel, -1, -2).astype(y.dtype)
    return matrices, y.reshape((-1,) + y.shape[-3:])


def _causal_taps(
    kernel_shape: tuple[int, ...], anchor: tuple[int, int], slope: int
) -> list[tuple[int, int, int]]:
    """(a, b, d) for every causal off-centre tap; d >= 1 is its hyperplane lag."""
    kh, kw = kernel_shape[:2]
    ai, aj = anchor
    taps = []
    for a in range(kh):
        for b in range(kw):
            d = slope * (ai - a) - (b - aj)
            causal = a < ai or (a == ai and b < aj)
            if causal:
                taps.append((a, b, d))
    return taps


def _centre_inverse_t(
    kernel: jax.Array, anchor: tuple[int, int], unit_diagonal: bool
) -> jax.Array:
    """(A^{-1})^T of the lower-triangular centre tap A, by back substitution.

    Both solvers multiply by it rather than calling a triangular solve per step:
    XLA's CPU triangular solve on (c, batch) right-hand sides was erratically
    slow (docs/benchmarks.md, "Measured once, behind design choices").
    """
    ai, aj = anchor
    eye = jnp.eye(kernel.shape[2], dtype=kernel.dtype)
    return jsl.solve_triangular(
        kernel[ai, aj], eye, lower=True, unit_diagonal=unit_diagonal
    ).T


@functools.partial(jax.jit, static_argnames=("anchor", "unit_diagonal"))
def solve_scan(
    kernel: jax.Array,
    y: jax.Array,
    anchor: tuple[int, int],
    *,
    unit_diagonal: bool = False,
) -> jax.Array:
    """Solves y = conv(kernel, x) for x, one pixel per `lax.scan` step.

    Args:
      kernel: (kh, kw, c, c) (HWIO), raster-causal around `anchor` (see the
        module docstring).
      y: (..., height, width, c).
      anchor: (ai, aj).
      unit_diagonal: whether the centre tap has a unit diagonal (not read then).

    Returns:
      x of the shape of y.
    """
    kernel, flat = _batched(kernel, y)
    batch, _, width, channels = flat.shape
    kw = kernel.shape[1]
    ai, aj = anchor
    centre_inverse_t = _centre_inverse_t(kernel, anchor, unit_diagonal)
    # Rows below the anchor are non-causal (zero taps): drop them.
    kernel = kernel[: ai + 1]
    padded_width = width + kw - 1
    # The carries hold only the ai rows above (row scan) and the current row
    # (pixel scan), so a step copies O(batch * k * width * c), not the image.
    # Taps at and after the current pixel read zeros: those pixels are unsolved.

    def pixel(row_window, inputs):
        above, current = row_window
        j, y_pixel = inputs
        rows = jnp.concatenate([above, current[:, None]], axis=1)
        window = jax.lax.dynamic_slice(
            rows, (0, 0, j, 0), (batch, ai + 1, kw, channels)
        )
        known = jnp.einsum(
            "bhwi,hwoi->bo", window, kernel, precision=jax.lax.Precision.HIGHEST
        )
        x_pixel = jnp.matmul(
            y_pixel - known, centre_inverse_t, precision=jax.lax.Precision.HIGHEST
        )
        current = jax.lax.dynamic_update_slice(
            current, x_pixel[:, None, :], (0, j + aj, 0)
        )
        return (above, current), None

    def row(above, y_row):
        current = jnp.zeros((batch, padded_width, channels), y.dtype)
        (_, current), _ = jax.lax.scan(
            pixel, (above, current), (jnp.arange(width), jnp.swapaxes(y_row, 0, 1))
        )
        above = jnp.concatenate([above, current[:, None]], axis=1)[:, 1:]
        return above, current[:, aj : aj + width]

    above = jnp.zeros((batch, ai, padded_width, channels), y.dtype)
    _, x = jax.lax.scan(row, above, jnp.swapaxes(flat, 0, 1))
    return jnp.swapaxes(x, 0, 1).reshape(y.shape)


@functools.partial(jax.jit, static_argnames=("anchor", "unit_diagonal"))
def solve_wavefront(
    kernel: jax.Array,
    y: jax.Array,
    anchor: tuple[int, int],
    *,
    unit_diagonal: bool = False,
) -> jax.Array:
    """Solves y = conv(kernel, x) for x, one hyperplane p * i + j = t per step.

    The image is skewed to s[t, i] = y[i, t - p * i] (zero where t - p * i falls
    outside the image), each step solves all rows of one hyperplane with the
    inverse of the c x c centre tap, and positions outside the image are forced
    to zero, so they act as the zero padding. Arguments and result as `solve_scan`.
    """
    kernel, flat = _batched(kernel, y)
    batch, height, width, channels = flat.shape
    kw = kernel.shape[1]
    ai, aj = anchor
    slope = 1 + (kw - 1 - aj)
    steps = slope * (height - 1) + width
    taps = _causal_taps(kernel.shape, anchor, slope)
    lags = max([d for _, _, d in taps], default=1)
    centre_inverse_t = _centre_inverse_t(kernel, anchor, unit_diagonal)
    # (taps * c_in, c_out): one matmul per step gathers every known contribution.
    weights = (
        jnp.concatenate([kernel[a, b].T for a, b, _ in taps], axis=0)
        if taps
        else jnp.zeros((0, channels), y.dtype)
    )

    rows = jnp.arange(height)
    cols = jnp.arange(steps)[:, None] - slope * rows[None, :]  # (steps, height)
    valid = (cols >= 0) & (cols < width)
    skewed = flat[:, rows[None, :], jnp.clip(cols, 0, width - 1)]  # (b, t, h, c)
    skewed = jnp.where(valid[None, :, :, None], skewed, 0)

    def step(history, inputs):
        y_plane, valid_plane = inputs
        if taps:
            known = jnp.concatenate(
                [history[d - 1, :, a : a + height] for a, _, d in taps], axis=-1
            )
            rhs = y_plane - jnp.matmul(
                known, weights, precision=jax.lax.Precision.HIGHEST
            )
        else:
            rhs = y_plane
        x_plane = jnp.matmul(rhs, centre_inverse_t, precision=jax.lax.Precision.HIGHEST)
        x_plane = jnp.where(valid_plane[None, :, None], x_plane, 0)
        padded = jnp.pad(x_plane, ((0, 0), (ai, 0), (0, 0)))
        history = jnp.concatenate([padded[None], history[:-1]], axis=0)
        return history, x_plane

    history = jnp.zeros((lags, batch, height + ai, channels), y.dtype)
    _, planes = jax.lax.scan(step, history, (jnp.swapaxes(skewed, 0, 1), valid))
    # planes: (steps, batch, height, c); pixel (i, j) sits at t = p * i + j.
    x = planes[slope * rows[:, None] + jnp.arange(width)[None, :], :, rows[:, None]]
    x = jnp.moveaxis(x, 2, 0)  # (batch, height, width, c)
    return x.reshape(y.shape)


def _row_inverse(
    kernel: jax.Array,
    anchor: tuple[int, int],
    width: int,
    centre_inverse_t: jax.Array,
) -> jax.Array:
    """The (W c, W c) matrix R with x_row = r_row @ R for the in-row 1D system.

    Row-vector form of x_j = A^{-1} (r_j - sum_{s=1..aj} K[ai, aj - s] x_{j-s}):
    x_j^T = sum_m r_{j-m}^T h_m with h_0 = A^{-T} and
    h_m = -(sum_s h_{m-s} K[ai, aj - s]^T) A^{-T}; R[j', j] = h_{j - j'}, j >= j'.
    """
    ai, aj = anchor
    channels = kernel.shape[2]
    if aj == 0:  # no in-row taps: each pixel is A^{-1} times its right-hand side
        responses = jnp.zeros((width, channels, channels), kernel.dtype)
        responses = responses.at[0].set(centre_inverse_t)
    else:
        # taps[s - 1] = K[ai, aj - s]^T for the s-th pixel to the left.
        taps = jnp.stack([kernel[ai, aj - s].T for s in range(1, aj + 1)])

        def step(recent, _):
            h = -jnp.einsum(
                "sio,soc->ic", recent, taps, precision=jax.lax.Precision.HIGHEST
            )
            h = jnp.matmul(h, centre_inverse_t, precision=jax.lax.Precision.HIGHEST)
            return jnp.concatenate([h[None], recent[:-1]], axis=0), h

        recent = jnp.zeros((aj, channels, channels), kernel.dtype)
        recent = recent.at[0].set(centre_inverse_t)
        _, later = jax.lax.scan(step, recent, None, length=width - 1)
        responses = jnp.concatenate([centre_inverse_t[None], later], axis=0)
    lag = np.arange(width)[None, :] - np.arange(width)[:, None]  # [j', j] -> j - j'
    blocks = jnp.where(
        (lag >= 0)[:, :, None, None], responses[np.clip(lag, 0, width - 1)], 0
    )  # (j', j, c_in, c_out)
    return jnp.transpose(blocks, (0, 2, 1, 3)).reshape(
        width * channels, width * channels
    )


@functools.partial(jax.jit, static_argnames=("anchor", "unit_diagonal"))
def solve_rows(
    kernel: jax.Array,
    y: jax.Array,
    anchor: tuple[int, int],
    *,
    unit_diagonal: bool = False,
) -> jax.Array:
    """Solves y = conv(kernel, x) for x, one image row per `lax.scan` step.

    See the module docstring; arguments and result as `solve_scan`.
    """
    kernel, flat = _batched(kernel, y)
    batch, _, width, channels = flat.shape
    kw = kernel.shape[1]
    ai, aj = anchor
    row_inverse = _row_inverse(
        kernel, anchor, width, _centre_inverse_t(kernel, anchor, unit_diagonal)
    )
    above_taps = [(a, b) for a in range(ai) for b in range(kw)]
    # (taps * c_in, c_out): one matmul gathers the known rows' contributions.
    above_weights = (
        jnp.concatenate([kernel[a, b].T for a, b in above_taps], axis=0)
        if above_taps
        else None
    )

    def row(above, y_row):
        # above: (ai, batch, width + kw - 1, c), the ai solved rows above, padded
        # by aj columns on the left and kw - 1 - aj on the right, oldest first.
        rhs = y_row
        if above_taps:
            known = jnp.concatenate(
                [above[a, :, b : b + width] for a, b in above_taps], axis=-1
            )
            rhs = rhs - jnp.matmul(
                known, above_weights, precision=jax.lax.Precision.HIGHEST
            )
        x_row = jnp.matmul(
            rhs.reshape(batch, width * channels),
            row_inverse,
            precision=jax.lax.Precision.HIGHEST,
        ).reshape(batch, width, channels)
        if ai:
            padded = jnp.pad(x_row, ((0, 0), (aj, kw - 1 - aj), (0, 0)))
            above = jnp.concatenate([above[1:], padded[None]], axis=0)
        return above, x_row

    above = jnp.zeros((ai, batch, width + kw - 1, channels), y.dtype)
    _, x = jax.lax.scan(row, above, jnp.swapaxes(flat, 0, 1))
    return jnp.swapaxes(x, 0, 1).reshape(y.shape)


def solve_fast(
    kernel: jax.Array,
    y: jax.Array,
    anchor: tuple[int, int],
    *,
    unit_diagonal: bool = False,
) -> jax.Array:
    """The default exact solver, chosen from the static shapes.

    `solve_rows` when a row has W c <= `ROWS_MAX_WIDTH` entries, else
    `solve_wavefront`; same arguments and result as both.
    """
    solver = (
        solve_rows
        if y.shape[-2] * kernel.shape[2] <= ROWS_MAX_WIDTH
        else solve_wavefront
    )
    return solver(kernel, y, anchor, unit_diagonal=unit_diagonal)


# Solver by method name, as the CInC and emerging ops accept it.
SOLVERS = {
    "fast": solve_fast,
    "rows": solve_rows,
    "wavefront": solve_wavefront,
    "scan": solve_scan,
}
