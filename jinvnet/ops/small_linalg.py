"""Inverse and log|det| of batches of small matrices in plain XLA (no LAPACK call).

Why: on CPU, jaxlib 0.10's batched LAPACK custom calls (`lax.linalg.lu`,
`jnp.linalg.slogdet`, `inv`, `solve` on a batch of matrices) split their batch into
tasks for XLA's intra-op thread pool and block until those tasks finish. When XLA
runs as many such calls side by side as the pool has threads (two independent
batched LUs on a 2-core machine), every thread waits and none is left to run the
tasks: the program hangs at 0% CPU (docs/training.md, "Known platform issues").
The FFT convolution (seed 000) needs one c x c inverse and log-det per frequency,
hundreds of small matrices per layer; this module computes them with ordinary XLA
operations, which cannot block the pool.

Method: Gauss-Jordan elimination with partial pivoting on [A | I], one `fori_loop`
step per column k = 0 .. n-1, vectorised over the batch:

    p = argmax_{i >= k} |M[i, k]|,  swap rows k and p,
    M[k] <- M[k] / M[k, k],  M[i] <- M[i] - M[i, k] M[k]  (i != k),

which leaves [I | A^{-1}]; the pivots d_k give log|det A| = sum_k log|d_k|.
Derivatives use the closed forms (no differentiation through the loop):

    d(A^{-1}) = -A^{-1} dA A^{-1},   d log|det A| = Re tr(A^{-1} dA).

A singular matrix (a zero pivot column) gives log|det A| = -inf and an all-NaN
inverse; never a finite wrong answer.
"""

import jax
import jax.numpy as jnp


@jax.jit
def _eliminate(a: jax.Array) -> tuple[jax.Array, jax.Array]:
    """Gauss-Jordan on a (batch, n, n) array: (A^{-1}, log|pivots|) of it."""
    batch, n = a.shape[0], a.shape[-1]
    work = jnp.concatenate(
        [a, jnp.broadcast_to(jnp.eye(n, dtype=a.dtype), a.shape)], axis=-1
    )
    rows = jnp.arange(n)
    examples = jnp.arange(batch)

    def step(k, carry):
        work, log_pivots, singular = carry
        column = jnp.abs(jax.lax.dynamic_index_in_dim(work, k, axis=2, keepdims=False))
        pivot_row = jnp.argmax(jnp.where(rows >= k, column, -1.0), axis=-1)
        order = jnp.broadcast_to(rows, (batch, n))
        order = order.at[examples, k].set(pivot_row).at[examples, pivot_row].set(k)
        work = jnp.take_along_axis(work, order[:, :, None], axis=1)
        pivot_row_values = jax.lax.dynamic_index_in_dim(work, k, axis=1)
        pivot = jax.lax.dynamic_index_in_dim(pivot_row_values, k, axis=2)
        is_zero = pivot == 0
        scaled = pivot_row_values / jnp.where(is_zero, 1, pivot)
        factors = jax.lax.dynamic_index_in_dim(work, k, axis=2)
        factors = jnp.where((rows == k)[None, :, None], 0, factors)
        work = work - factors * scaled
        work = jax.lax.dynamic_update_index_in_dim(work, scaled, k, axis=1)
        log_pivots = log_pivots + jnp.log(jnp.abs(pivot[:, 0, 0]))
        return work, log_pivots, singular | is_zero[:, 0, 0]

    real_dtype = jnp.zeros((), a.dtype).real.dtype
    init = (work, jnp.zeros(batch, real_dtype), jnp.zeros(batch, bool))
    work, log_abs_det, singular = jax.lax.fori_loop(0, n, step, init)
    inverse = jnp.where(singular[:, None, None], jnp.nan, work[..., n:])
    return inverse, jnp.where(singular, -jnp.inf, log_abs_det)


@jax.custom_jvp
def inv_and_log_abs_det(a: jax.Array) -> tuple[jax.Array, jax.Array]:
    """A^{-1} and log|det A| for a batch of square matrices, without LAPACK.

    Args:
      a: real or complex array of shape (..., n, n); meant for small n (the cost
        is n sequential steps of O(n^2) work per matrix).

    Returns:
      (inverse, log_abs_det): A^{-1} of shape (..., n, n), NaN for a singular
      matrix, and log|det A| of shape (...), real, -inf for a singular matrix.

    Examples:
      >>> import numpy as np
      >>> a = jnp.array([[[0.0, 2.0], [1.0, 1.0]]])
      >>> inverse, log_abs_det = inv_and_log_abs_det(a)
      >>> np.allclose(inverse[0], np.linalg.inv(a[0])), float(log_abs_det[0])
      (True, 0.693...)
    """
    if a.ndim < 2 or a.shape[-1] != a.shape[-2]:
        raise ValueError(
            f"inv_and_log_abs_det: expected square matrices of shape (..., n, n), "
            f"got shape {a.shape}"
        )
    batch_shape, n = a.shape[:-2], a.shape[-1]
    inverse, log_abs_det = _eliminate(a.reshape((-1, n, n)))
    return inverse.reshape(a.shape), log_abs_det.reshape(batch_shape)


@inv_and_log_abs_det.defjvp
def _inv_and_log_abs_det_jvp(primals, tangents):
    (a,), (da,) = primals, tangents
    inverse, log_abs_det = inv_and_log_abs_det(a)
    inverse_da = jnp.matmul(inverse, da, precision=jax.lax.Precision.HIGHEST)
    d_inverse = -jnp.matmul(inverse_da, inverse, precision=jax.lax.Precision.HIGHEST)
    d_log_abs_det = jnp.trace(inverse_da, axis1=-2, axis2=-1).real
    return (inverse, log_abs_det), (d_inverse, d_log_abs_det)


def log_abs_det(a: jax.Array) -> jax.Array:
    """log|det A| of a batch of small square matrices (..., n, n), without LAPACK."""
    return inv_and_log_abs_det(a)[1]
