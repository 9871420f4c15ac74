"""Masked invertible (Mint) layers with a fixed-point inverse (MintNet, seed 002).

Song, Meng & Ermon 2019, "MintNet: Building Invertible Neural Networks with Masked
Convolutions". Images x of shape (..., H, W, C) are ordered raster-then-channel:
(i, j, c) < (i', j', c') lexicographically. A *lower* masked k x k convolution lets
output (i, j, c) see input (i', j', c') only if (i', j', c') <= (i, j, c): every tap
above or left of the centre, and at the centre tap the channel pairs c' <= c. Its
Jacobian is lower triangular with the centre tap's diagonal on the diagonal. An
*upper* convolution uses the reversed order (Jacobian upper triangular). Hidden
layers have K groups of C channels; hidden channel g * C + c sits at position c.

Params: `Params(w1, b1, w2, b2, w3, b3, log_t)` with HWIO kernels
w1 (k, k, C, K C), w2 (k, k, K C, K C), w3 (k, k, K C, C), biases of the output
channels, and log_t of shape (C,) or (H, W, C). With h = ELU (h' > 0), t = exp(log_t)
and masked convolutions W (Eq. (5) of the paper):

    forward:  m(x) = t * x + sum_i W3_i h(sum_j W2_ij h(W1_j x + b1_j) + b2_ij) + b3
    diagonal: d = t + sum_i diag(W3_i) h'(a2_i) sum_j diag(W2_ij) h'(a1_j) diag(W1_j)
    log|det dm/dx| = sum_(i, j, c) log d_(i, j, c)
    inverse:  Algorithm 1, x <- x - alpha d(x)^{-1} (m(x) - z), x_0 = z,
              locally convergent for 0 < alpha < 2 (Theorem 2)
    log|det dx/dz| = -log|det dm/dx| at the returned x

The diagonal is computed analytically in the same pass as the output. The centre
diagonal of W2_ij is stored as a magnitude and used with the sign
sign(diag W1_j) sign(diag W3_i), so every product diag(W3_i) diag(W2_ij) diag(W1_j)
is non-negative and d >= t > 0: the layer is always invertible.

Iterative inverses return `InverseResult(x, residual, iterations, converged)`
(`ops.inverse_result`, shared with the direct solvers of CInC and emerging); the
residual is max |m(x) - z| / max(1, max |z|) per example. Non-convergence (alpha
outside (0, 2), badly conditioned layers, non-finite inputs) shows in `converged` and
`check_converged` raises on it. A non-finite residual stops the loop at once.
`inverse` (and so the bijector) never returns an unconverged example as a finite
number: it comes back as NaN, as JAX's failed linear algebra does, or with
on_failure="raise" the call raises through `checkify` as well.
Gradients through the inverse use implicit differentiation: the cotangent solve
J^T u = v runs the same fixed-point iteration on the transposed triangular Jacobian.

Example (the masked convolutions and the fixed-point inverse's variants):

    >>> import jax, jax.numpy as jnp
    >>> params = init(jax.random.PRNGKey(0), 2, num_groups=3)   # a Params
    >>> params.w1.shape                           # (k, k, channels, groups * channels)
    (3, 3, 2, 6)
    >>> m = conv_mask(3, 2, 6, 2, upper=False)    # lower-triangular in raster order
    >>> m.shape, float(m[2, 2].sum()), float(m[0, 0].sum())
    ((3, 3, 2, 6), 0.0, 12.0)
    >>> x = jax.random.normal(jax.random.PRNGKey(1), (5, 4, 4, 2))
    >>> y, d = forward_and_diagonal(params, x)   # m(x) and diag(dm/dx) > 0
    >>> bool((d > 0).all()), diagonal_taps(params.w1, 2).shape
    (True, (1, 3, 2))
    >>> h = masked_conv(x, params.w1, channels=2)
    >>> h.shape
    (5, 4, 4, 6)
    >>> x15 = solve_fixed_steps(params, y, num_steps=15).x   # Algorithm 1, 15 steps
    >>> bool(jnp.allclose(x15, x, atol=1e-5))
    True
    >>> result = solve(params, y)                 # an InverseResult
    >>> x_ok = converged_or_nan(check_converged(result))   # NaN where unconverged
    >>> bool(jnp.allclose(x_ok, x, atol=1e-5))
    True
    >>> x_back, _ = with_options(alpha=0.9).inverse(params, y)   # a Block
    >>> bool(jnp.allclose(x_back, x, atol=1e-5))
    True
    >>> from jax.experimental import checkify     # the same check under jit
    >>> check = jax.jit(lambda y: checkify_converged(solve(params, y)))
    >>> checked = checkify.checkify(check)
    >>> error, _ = checked(y)
    >>> error.get() is None
    True
"""

import functools
from typing import NamedTuple, Optional

import chex
import jax
import jax.numpy as jnp
import numpy as np
from jax.experimental import checkify

from jinvnet import _validation
from jinvnet.ops import small_linalg
from jinvnet.ops.block import Block
from jinvnet.ops.inverse_result import (
    InverseResult,
    default_tolerance,
    relative_residual,
)

_NAME = "mint"


class Params(NamedTuple):
    """Mint layer parameters (kernels in HWIO layout; see the module docstring)."""

    w1: jax.Array
    b1: jax.Array
    w2: jax.Array
    b2: jax.Array
    w3: jax.Array
    b3: jax.Array
    log_t: jax.Array


def conv_mask(
    kernel_size: int, in_channels: int, out_channels: int, channels: int, *, upper: bool
) -> np.ndarray:
    """The 0/1 mask (k, k, in, out) of a lower (or upper) triangular convolution.

    Channel n of either side sits at position n % channels. A lower mask keeps the
    taps strictly above or left of the centre and, at the centre, the channel
    pairs with position(in) <= position(out); an upper mask is the mirror image.

    Raises:
      ValueError: kernel_size even or not positive; in/out not multiples of channels.
    """
    _check_kernel_size(kernel_size)
    for what, value in (("in_channels", in_channels), ("out_channels", out_channels)):
        _validation.check_divisible(value, channels, _NAME, what)
    r = kernel_size // 2
    di = np.arange(kernel_size)[:, None] - r
    dj = np.arange(kernel_size)[None, :] - r
    pos_in = np.arange(in_channels)[:, None] % channels
    pos_out = np.arange(out_channels)[None, :] % channels
    if upper:
        before = (di > 0) | ((di == 0) & (dj > 0))
        centre = pos_in >= pos_out
    else:
        before = (di < 0) | ((di == 0) & (dj < 0))
        centre = pos_in <= pos_out
    mask = np.repeat(
        np.repeat(before[:, :, None, None], in_channels, 2), out_channels, 3
    )
    mask[r, r] = centre
    return mask


def masked_conv(
    x: jax.Array, kernel: jax.Array, *, channels: int, upper: bool = False
) -> jax.Array:
    """Zero-padded "SAME" convolution of x (N, H, W, in) with the masked kernel."""
    mask = conv_mask(
        kernel.shape[0], kernel.shape[2], kernel.shape[3], channels, upper=upper
    )
    return jax.lax.conv_general_dilated(
        x,
        kernel * jnp.asarray(mask, kernel.dtype),
        (1, 1),
        "SAME",
        dimension_numbers=("NHWC", "HWIO", "NHWC"),
        precision=jax.lax.Precision.HIGHEST,
    )


def diagonal_taps(kernel: jax.Array, channels: int) -> jax.Array:
    """Centre taps between equal positions: (k, k, G_in C, G_out C) -> (G_in, G_out, C).

    These are the entries of a masked convolution's Jacobian diagonal.
    """
    r = kernel.shape[0] // 2
    g_in, g_out = kernel.shape[2] // channels, kernel.shape[3] // channels
    centre = kernel[r, r].reshape(g_in, channels, g_out, channels)
    return jnp.diagonal(centre, axis1=1, axis2=3)


def init(
    key: chex.PRNGKey,
    channels: int,
    *,
    kernel_size: int = 3,
    init_scale: Optional[float] = None,
    num_groups: int = 1,
    spatial_shape: Optional[tuple[int, int]] = None,
    dtype: jnp.dtype = jnp.float32,
) -> Params:
    """Small random masked kernels, zero biases, t = 1.

    Args:
      key: PRNG key.
      channels: C, the number of input channels.
      kernel_size: odd kernel size k (default 3).
      init_scale: kernel entries are N(0, s^2 / fan_in) with s = init_scale;
        None (default) is 0.1, so the layer starts close to x + const.
      num_groups: K, the number of hidden groups (default 1).
      spatial_shape: (H, W) for a per-pixel t (as in the paper); None (default)
        gives one t per channel.
      dtype: parameter dtype (default float32).

    Returns:
      `Params` with masked entries set to zero.

    Raises:
      ValueError: non-positive sizes or an even kernel size.

    Examples:
      >>> import jax, jax.numpy as jnp
      >>> params = init(jax.random.PRNGKey(0), 2, num_groups=3)
      >>> x = jax.random.normal(jax.random.PRNGKey(1), (5, 4, 4, 2))
      >>> y, log_det = forward(params, x)
      >>> result = solve(params, y)
      >>> bool(result.converged.all()), bool(jnp.allclose(result.x, x, atol=1e-5))
      (True, True)
    """
    _validation.check_positive_int(channels, _NAME, "channels")
    _validation.check_positive_int(num_groups, _NAME, "num_groups")
    _check_kernel_size(kernel_size)
    _validation.check_dtype(dtype, _NAME, "parameter dtype")
    init_scale = 0.1 if init_scale is None else init_scale
    k, c, kc = kernel_size, channels, num_groups * channels
    keys = jax.random.split(key, 3)
    shapes = ((k, k, c, kc), (k, k, kc, kc), (k, k, kc, c))
    kernels = []
    for sub, shape in zip(keys, shapes):
        std = init_scale / np.sqrt(k * k * shape[2])
        mask = conv_mask(k, shape[2], shape[3], c, upper=False)
        kernels.append(std * jax.random.normal(sub, shape, dtype) * mask.astype(dtype))
    t_shape = (c,) if spatial_shape is None else (*spatial_shape, c)
    return Params(
        w1=kernels[0],
        b1=jnp.zeros((kc,), dtype),
        w2=kernels[1],
        b2=jnp.zeros((kc,), dtype),
        w3=kernels[2],
        b3=jnp.zeros((c,), dtype),
        log_t=jnp.zeros(t_shape, dtype),
    )


def _check_kernel_size(kernel_size: int) -> None:
    _validation.check_positive_int(kernel_size, _NAME, "kernel_size")
    if kernel_size % 2 == 0:
        raise ValueError(f"{_NAME}: kernel_size must be odd, got {kernel_size}")


def _check(params: Params, x: jax.Array) -> None:
    """Static checks of the parameter shapes against each other and against x."""
    k, _, c, kc = params.w1.shape
    if params.w1.shape[1] != k:
        raise ValueError(f"{_NAME}: kernels must be square, got w1 {params.w1.shape}")
    _check_kernel_size(k)
    _validation.check_divisible(kc, c, _NAME, "hidden channels of w1")
    expected = {
        "w1": (k, k, c, kc),
        "b1": (kc,),
        "w2": (k, k, kc, kc),
        "b2": (kc,),
        "w3": (k, k, kc, c),
        "b3": (c,),
    }
    for what, shape in expected.items():
        got = tuple(getattr(params, what).shape)
        if got != shape:
            raise ValueError(f"{_NAME}: expected {what} of shape {shape}, got {got}")
    _validation.check_params(params, _NAME)
    _validation.check_image(x, _NAME, channels=c)
    t_shape, event = tuple(params.log_t.shape), tuple(x.shape[-3:])
    if t_shape not in ((c,), event):
        raise ValueError(
            f"{_NAME}: log_t must have shape ({c},) or {event}, got {t_shape}"
        )


def _elu_derivative(a: jax.Array) -> jax.Array:
    return jnp.where(a > 0, jnp.ones_like(a), jnp.exp(jnp.minimum(a, 0)))


def _signed_w2(params: Params, channels: int) -> tuple[jax.Array, jax.Array]:
    """w2 with centre diagonal |w2| sign(diag w1) sign(diag w3), and that diagonal."""
    k, kc = params.w2.shape[0], params.w2.shape[2]
    groups, r = kc // channels, k // 2
    sign1 = jnp.sign(diagonal_taps(params.w1, channels)[0])  # (K_j, C)
    sign3 = jnp.sign(diagonal_taps(params.w3, channels)[:, 0])  # (K_i, C)
    sign = sign1[:, None, :] * sign3[None, :, :]  # (K_j, K_i, C), w2's (in, out) layout
    eye = jnp.eye(channels, dtype=params.w2.dtype)
    spread = jnp.einsum(
        "jic,cd->jcid", sign, eye, precision=jax.lax.Precision.HIGHEST
    ).reshape(kc, kc)
    on_diagonal = np.tile(np.eye(channels, dtype=bool), (groups, groups))
    centre = jnp.where(on_diagonal, jnp.abs(params.w2[r, r]) * spread, params.w2[r, r])
    w2 = jnp.asarray(params.w2).at[r, r].set(centre)
    return w2, diagonal_taps(w2, channels)


def forward_and_diagonal(
    params: Params, x: jax.Array, *, upper: bool = False
) -> tuple[jax.Array, jax.Array]:
    """m(x) and the diagonal of its Jacobian, d(x) > 0, in one pass.

    Args:
      params: `Params` for C channels.
      x: input of shape (..., H, W, C).
      upper: use upper instead of lower triangular masks.

    Returns:
      m(x) and d(x), both of the shape of x.

    Raises:
      ValueError: wrong rank, non-floating dtype, mismatched parameter shapes,
        channel mismatch or an even kernel size.
    """
    _check(params, x)
    c = x.shape[-1]
    groups = params.w1.shape[-1] // c
    flat = x.reshape((-1,) + x.shape[-3:])
    conv = functools.partial(masked_conv, channels=c, upper=upper)
    w2, d2 = _signed_w2(params, c)  # d2: (K_j, K_i, C)
    d1 = diagonal_taps(params.w1, c)[0]  # (K_j, C)
    d3 = diagonal_taps(params.w3, c)[:, 0]  # (K_i, C)
    grouped = flat.shape[:-1] + (groups, c)

    a1 = conv(flat, params.w1) + params.b1
    g1 = (_elu_derivative(a1) * d1.reshape(-1)).reshape(grouped)
    a2 = conv(jax.nn.elu(a1), w2) + params.b2
    g1_d2 = jnp.einsum("...jc,jic->...ic", g1, d2, precision=jax.lax.Precision.HIGHEST)
    g2 = _elu_derivative(a2).reshape(grouped) * g1_d2
    t = jnp.exp(params.log_t)
    y = conv(jax.nn.elu(a2), params.w3) + params.b3 + t * flat
    diag = t + jnp.einsum("...ic,ic->...c", g2, d3, precision=jax.lax.Precision.HIGHEST)
    return y.reshape(x.shape), diag.reshape(x.shape)


def _sum_event(v: jax.Array) -> jax.Array:
    return jnp.sum(v, axis=(-3, -2, -1))


def forward(
    params: Params, x: jax.Array, *, upper: bool = False
) -> tuple[jax.Array, jax.Array]:
    """Computes y = m(x) and log|det dm/dx| = sum log d(x) (of the batch shape)."""
    y, diag = forward_and_diagonal(params, x, upper=upper)
    return y, _sum_event(jnp.log(diag))


def _anderson_weights(r_hist: jax.Array, filled: jax.Array) -> jax.Array:
    """Anderson's mixing weights w (..., m): min |sum_i w_i r_i| with sum_i w_i = 1.

    With the residuals scaled to unit length, s_i = r_i / |r_i| and w_i = v_i / |r_i|
    (so that a step's size does not decide its weight), this is per example

        [0   c^T          ] [nu]   [c_min]
        [c   S^T S + lam I] [v ] = [0    ],   c_i = c_min / |r_i|,  lam = 1e-6,

    with c_min = min_i |r_i|; slots i >= filled get w_i = 0. Solved with
    `small_linalg` (plain XLA, no LAPACK call; see its module docstring).
    r_hist: (m, ..., H, W, C) residual history; filled: number of valid slots.
    """
    memory = r_hist.shape[0]
    flat = r_hist.reshape(r_hist.shape[:-3] + (-1,))  # (m, ..., E)
    gram = jnp.einsum(
        "i...e,j...e->...ij", flat, flat, precision=jax.lax.Precision.HIGHEST
    )  # (..., m, m)
    used = jnp.arange(memory) < filled
    tiny = jnp.finfo(gram.dtype).tiny
    norm = jnp.sqrt(jnp.maximum(jnp.diagonal(gram, axis1=-2, axis2=-1), tiny))
    norm = jnp.where(used, norm, jnp.inf)  # (..., m)
    smallest = jnp.min(norm, axis=-1, keepdims=True)
    border = smallest / norm  # c_i in (0, 1]; 0 for unused slots
    unit = gram / (norm[..., :, None] * norm[..., None, :])  # 0 for unused slots
    eye = jnp.eye(memory, dtype=gram.dtype)
    unit = unit + eye * jnp.where(used, 1e-6, 1.0)[..., None, :]
    top = jnp.concatenate([jnp.zeros_like(border[..., :1]), border], -1)
    bottom = jnp.concatenate([border[..., :, None], unit], -1)
    system = jnp.concatenate([top[..., None, :], bottom], -2)  # (..., m+1, m+1)
    batch = system.shape[:-2]
    inverse, _ = small_linalg.inv_and_log_abs_det(
        system.reshape((-1,) + system.shape[-2:])
    )
    inverse = inverse.reshape(batch + system.shape[-2:])
    return inverse[..., 1:, 0] * smallest / norm  # w_i = v_i / |r_i|


def _iterate(fn, z, x0, alpha, tol, max_iters, num_steps, memory=1):
    """Algorithm 1 on fn: x -> (f(x), diag): fixed steps, or until residual <= tol.

    With memory = 1 each step is Algorithm 1's x <- g(x) = x - alpha (f(x) - z) / d.
    With memory m > 1 it is Anderson acceleration of that map (Walker & Ni 2011):
    with the last m iterates x_i and their steps r_i = g(x_i) - x_i,

        x <- sum_i w_i (x_i + r_i),  w = argmin |sum_i w_i r_i|, sum_i w_i = 1,

    per example (`_anderson_weights`); one evaluation of fn per step either way.
    The tolerance loop continues while some example has a finite residual above
    `tol` and fewer than `max_iters` steps were taken, so a NaN or Inf stops it.
    """
    history = jnp.zeros((memory if memory > 1 else 0,) + z.shape, z.dtype)

    def step(state):
        x, fx, diag, k, x_hist, r_hist = state
        r = -alpha * (fx - z) / diag
        if memory == 1:
            x = x + r
        else:
            slot = k % memory
            x_hist = x_hist.at[slot].set(x)
            r_hist = r_hist.at[slot].set(r)
            weights = _anderson_weights(r_hist, jnp.minimum(k + 1, memory))
            weights = jnp.moveaxis(weights, -1, 0)[..., None, None, None]
            x = jnp.sum(weights * (x_hist + r_hist), axis=0)
        return (x, *fn(x), k + 1, x_hist, r_hist)

    state = (x0, *fn(x0), jnp.zeros((), jnp.int32), history, history)
    if num_steps is not None:
        state = jax.lax.fori_loop(0, num_steps, lambda _, s: step(s), state)
    else:

        def active(state):
            residual = relative_residual(state[1], z)
            working = jnp.any(jnp.isfinite(residual) & (residual > tol))
            return working & (state[3] < max_iters)

        state = jax.lax.while_loop(active, step, state)
    x, fx, _, iterations, _, _ = state
    residual = relative_residual(fx, z)
    return InverseResult(x, residual, iterations, residual <= tol)


@functools.partial(jax.custom_vjp, nondiff_argnums=(0, 1, 2, 3, 4, 5))
def _solve(alpha, tol, max_iters, num_steps, upper, memory, params, z):
    fn = functools.partial(forward_and_diagonal, params, upper=upper)
    return _iterate(fn, z, z, alpha, tol, max_iters, num_steps, memory)


def _solve_fwd(alpha, tol, max_iters, num_steps, upper, memory, params, z):
    result = _solve(alpha, tol, max_iters, num_steps, upper, memory, params, z)
    return result, (params, result.x)


def _solve_bwd(alpha, tol, max_iters, num_steps, upper, memory, saved, cotangent):
    """Implicit differentiation: m(x*) = z, so dx*/dz = J^{-1}, dx*/dp = -J^{-1} dm/dp.

    u = J^{-T} x_bar by the fixed-point iteration on the transposed (triangular,
    same diagonal) system; then z_bar = u and params_bar = -(dm/dp)^T u. The
    residual output is a diagnostic and gets no gradient. The adjoint solve uses
    the forward solve's alpha, tol, max_iters (or num_steps) and Anderson memory;
    its own residual
    is not reported, so check the forward solve's `converged` before trusting
    gradients.
    """
    params, x = saved
    v = cotangent.x
    _, diag = forward_and_diagonal(params, x, upper=upper)
    _, vjp_x = jax.vjp(lambda x_: forward_and_diagonal(params, x_, upper=upper)[0], x)

    def transposed(u):
        return vjp_x(u)[0], diag

    u = _iterate(transposed, v, v / diag, alpha, tol, max_iters, num_steps, memory).x
    _, vjp_params = jax.vjp(
        lambda p: forward_and_diagonal(p, x, upper=upper)[0], params
    )
    (params_bar,) = vjp_params(u)
    return jax.tree_util.tree_map(jnp.negative, params_bar), u


_solve.defvjp(_solve_fwd, _solve_bwd)
# Compiled once per shape and option set, also when called outside `jit`.
_solve_jit = jax.jit(_solve, static_argnums=(0, 1, 2, 3, 4, 5))


def _check_alpha(alpha: float) -> None:
    if not alpha > 0:
        raise ValueError(
            f"{_NAME}: step size alpha must be positive (converges for 0 < alpha < 2), "
            f"got {alpha}"
        )


def _check_options(alpha: float, anderson_memory: int) -> None:
    _check_alpha(alpha)
    _validation.check_positive_int(anderson_memory, _NAME, "anderson_memory")


def solve(
    params: Params,
    z: jax.Array,
    *,
    upper: bool = False,
    alpha: float = 1.0,
    tol: Optional[float] = None,
    max_iters: int = 100,
    anderson_memory: int = 1,
) -> InverseResult:
    """Inverts m by Algorithm 1 in a `lax.while_loop` until residual <= tol.

    Args:
      params: `Params` for C channels.
      z: target of shape (..., H, W, C).
      upper: upper instead of lower triangular masks.
      alpha: step size, 0 < alpha < 2 for local convergence (default 1.0); larger
        values are allowed and show up as converged=False.
      tol: relative residual to stop at; None (default) uses `default_tolerance`.
      max_iters: most update steps (default 100).
      anderson_memory: 1 (default) is Algorithm 1; m >= 2 accelerates it by
        Anderson mixing of the last m iterates (`_iterate`), still one forward
        pass per step.

    Returns:
      `InverseResult`; differentiable in params and z (implicit differentiation).

    Raises:
      ValueError: as `forward_and_diagonal`, alpha <= 0 or anderson_memory < 1.

    Examples:
      >>> import jax
      >>> params = init(jax.random.PRNGKey(0), 4)
      >>> y = jax.random.normal(jax.random.PRNGKey(1), (2, 8, 8, 4))
      >>> result = solve(params, y)  # an ops.inverse_result.InverseResult
      >>> result.x.shape, result.residual.shape, bool(result.converged.all())
      ((2, 8, 8, 4), (2,), True)
      >>> bool(result.iterations > 0)  # fixed-point steps taken
      True
    """
    _check_options(alpha, anderson_memory)
    _validation.check_positive_int(max_iters, _NAME, "max_iters")
    _check(params, z)
    tol = default_tolerance(z.dtype) if tol is None else tol
    return _solve_jit(
        float(alpha), float(tol), max_iters, None, upper, anderson_memory, params, z
    )


def solve_fixed_steps(
    params: Params,
    z: jax.Array,
    *,
    num_steps: int,
    upper: bool = False,
    alpha: float = 1.0,
    tol: Optional[float] = None,
    anderson_memory: int = 1,
) -> InverseResult:
    """Inverts m by exactly `num_steps` steps of Algorithm 1 in a `lax.fori_loop`.

    Args:
      params: `Params` for C channels.
      z: target of shape (..., H, W, C).
      num_steps: number of update steps T (>= 1).
      upper: upper instead of lower triangular masks.
      alpha: step size (default 1.0).
      tol: only sets `converged` (residual <= tol); None uses `default_tolerance`.
      anderson_memory: as in `solve`.

    Returns:
      `InverseResult` with iterations = num_steps; differentiable like `solve`.
    """
    _check_options(alpha, anderson_memory)
    _validation.check_positive_int(num_steps, _NAME, "num_steps")
    _check(params, z)
    tol = default_tolerance(z.dtype) if tol is None else tol
    return _solve_jit(
        float(alpha),
        float(tol),
        num_steps,
        num_steps,
        upper,
        anderson_memory,
        params,
        z,
    )


ON_FAILURE = ("nan", "raise")


def _check_on_failure(on_failure: str) -> None:
    if on_failure not in ON_FAILURE:
        raise ValueError(
            f"{_NAME}: on_failure must be one of {ON_FAILURE}, got {on_failure!r}"
        )


def converged_or_nan(result: InverseResult, on_failure: str = "nan") -> jax.Array:
    """result.x with every unconverged example set to NaN.

    Args:
      result: an `InverseResult`.
      on_failure: "nan" (default), or "raise" to also `checkify.check` that every
        example converged: eagerly that raises `checkify.JaxRuntimeError`; under
        `jit` wrap the function in `checkify.checkify` (or `jinvnet.checked`).

    Returns:
      x of the shape of result.x; the examples with converged=False are NaN.

    Raises:
      ValueError: unknown on_failure.
    """
    _check_on_failure(on_failure)
    if on_failure == "raise":
        checkify_converged(result)
    ok = jnp.reshape(result.converged, result.converged.shape + (1, 1, 1))
    return jnp.where(ok, result.x, jnp.asarray(jnp.nan, result.x.dtype))


def inverse(
    params: Params,
    y: jax.Array,
    *,
    upper: bool = False,
    alpha: float = 1.0,
    tol: Optional[float] = None,
    max_iters: int = 100,
    num_steps: Optional[int] = None,
    on_failure: str = "nan",
    anderson_memory: int = 1,
) -> tuple[jax.Array, jax.Array]:
    """Computes x = m^{-1}(y) by `solve` (`solve_fixed_steps` if num_steps is set).

    An example whose residual ends above `tol` (did not converge, or a non-finite
    input) comes back as NaN, with a NaN log-det, never as a finite wrong answer
    (`converged_or_nan`). With num_steps set, `tol` is the residual accepted after
    those steps.

    Args:
      params: `Params` for C channels.
      y: output of shape (..., H, W, C).
      upper: upper instead of lower triangular masks.
      alpha: step size (default 1.0).
      tol: relative residual accepted; None (default) uses `default_tolerance`.
      max_iters: most steps of the tolerance loop (default 100).
      num_steps: if set, exactly this many steps (`solve_fixed_steps`).
      on_failure: "nan" (default) or "raise" (NaN and a `checkify` check; see
        `converged_or_nan`).
      anderson_memory: 1 (default) is Algorithm 1, m >= 2 Anderson acceleration
        (see `solve`).

    Returns:
      x and log|det dx/dy| = -sum log d(x), recomputed at x so it is
      differentiable. Use `solve` directly to see the residual and the iterate
      of the examples that did not converge.

    Raises:
      ValueError: as `solve`, or an unknown on_failure.
      checkify.JaxRuntimeError: with on_failure="raise", outside `jit`, if some
        example did not converge.
    """
    _check_on_failure(on_failure)
    if num_steps is None:
        result = solve(
            params,
            y,
            upper=upper,
            alpha=alpha,
            tol=tol,
            max_iters=max_iters,
            anderson_memory=anderson_memory,
        )
    else:
        result = solve_fixed_steps(
            params,
            y,
            num_steps=num_steps,
            upper=upper,
            alpha=alpha,
            tol=tol,
            anderson_memory=anderson_memory,
        )
    x = converged_or_nan(result, on_failure)
    _, log_det = forward(params, x, upper=upper)
    return x, -log_det


def _not_converged_message(num_bad, total, worst, iterations) -> str:
    return (
        f"{_NAME}: fixed-point inverse did not converge for {num_bad} of {total} "
        f"examples (largest residual {worst}, after {iterations} iterations); try a "
        f"step size alpha below 1 (e.g. 0.8), raise max_iters or tol, or check the "
        f"input for non-finite values"
    )


def check_converged(result: InverseResult) -> InverseResult:
    """Raises unless every example converged; returns `result` unchanged.

    Call it outside `jit` on a concrete result. Inside `jit`, wrap the function
    with `jax.experimental.checkify.checkify` and use `checkify_converged`.

    Raises:
      RuntimeError: some example has converged=False (including NaN residuals).
    """
    converged = np.asarray(result.converged)
    if not converged.all():
        residual = np.asarray(result.residual)
        worst = np.nanmax(residual) if np.isfinite(residual).any() else residual.max()
        raise RuntimeError(
            _not_converged_message(
                int((~converged).sum()), converged.size, worst, int(result.iterations)
            )
        )
    return result


def checkify_converged(result: InverseResult) -> None:
    """`checkify.check` that every example converged, for use under `jit`."""
    checkify.check(
        jnp.all(result.converged),
        f"{_NAME}: fixed-point inverse did not converge (largest residual {{r}}, after "
        f"{{k}} iterations); try alpha below 1 (e.g. 0.8), raise max_iters or tol, "
        f"or check the input for non-finite values",
        r=jnp.max(result.residual),
        k=result.iterations,
    )


def with_options(
    *,
    upper: bool = False,
    alpha: float = 1.0,
    tol: Optional[float] = None,
    max_iters: int = 100,
    num_steps: Optional[int] = None,
    on_failure: str = "nan",
    anderson_memory: int = 1,
) -> Block:
    """`forward` and `inverse` with the direction and inverse options fixed.

    The options are those of `inverse`; returns them bound as a `Block`.

    Raises:
      ValueError: alpha <= 0, anderson_memory, max_iters or num_steps < 1, or an
        unknown on_failure.
    """
    _check_on_failure(on_failure)
    _check_options(alpha, anderson_memory)
    _validation.check_positive_int(max_iters, _NAME, "max_iters")
    if num_steps is not None:
        _validation.check_positive_int(num_steps, _NAME, "num_steps")
    return Block(
        functools.partial(forward, upper=upper),
        functools.partial(
            inverse,
            upper=upper,
            alpha=alpha,
            tol=tol,
            max_iters=max_iters,
            num_steps=num_steps,
            on_failure=on_failure,
            anderson_memory=anderson_memory,
        ),
    )
