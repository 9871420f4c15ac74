"""`InverseResult`: what every inverse that reports on itself returns.

The iterative inverses (`mint.solve`, `mint.fixed_steps`) and the direct ones
(`cinc.solve`, `emerging.solve`: triangular solves) return the same type, so a
caller checks any of them the same way:

    residual = max |f(x) - y| / max(1, max |y|)   per example
    converged = residual <= tol                    per example (False for NaN)

For the direct solvers `iterations` is 0 and `converged` says whether the solve
reproduced y to `tol` (`default_tolerance` unless given); they also report what
their conditioning depends on (`min_abs_diagonal`, for CInC `gain_bound` and
`used_filter`). Fields an op does not report are None.

Example (a direct solve reported as an inverse with diagnostics):

    >>> import jax.numpy as jnp
    >>> y = jnp.arange(16.0).reshape(2, 2, 2, 2)      # two (h, w, c) examples
    >>> x = y / 2                                      # the solve of f(x) = 2 x = y
    >>> result = of_direct_solve(x, 2 * x, y)          # an InverseResult
    >>> result.converged.tolist(), result.residual.tolist(), int(result.iterations)
    ([True, True], [0.0, 0.0], 0)
    >>> y1 = jnp.full((1, 2, 2, 1), 2.0)
    >>> relative_residual(y1 + 0.5, y1).tolist()       # max |f(x) - y| / max(1, |y|)
    [0.25]
    >>> isinstance(result, InverseResult), default_tolerance(jnp.float32)
    (True, 2e-06)
"""

from typing import NamedTuple, Optional

import jax
import jax.numpy as jnp


class InverseResult(NamedTuple):
    """The result of an inverse, with its report.

    Attributes:
      x: the solution, of the shape of y (..., H, W, C).
      residual: max |f(x) - y| / max(1, max |y|) per example (batch shape); NaN
        stays NaN.
      iterations: update steps taken (int32 scalar); 0 for direct solvers.
      converged: residual <= tol per example (batch shape); False for NaN.
      min_abs_diagonal: smallest |diagonal| of the Jacobian's triangular factor
        (the inverse is singular as it reaches 0); None where not reported.
      gain_bound: a bound on ||f^{-1}||_inf (CInC: sum |h| of the inverse
        filter); None where not reported.
      used_filter: whether CInC's FFT inverse filter was used; None elsewhere.
    """

    x: jax.Array
    residual: jax.Array
    iterations: jax.Array
    converged: jax.Array
    min_abs_diagonal: Optional[jax.Array] = None
    gain_bound: Optional[jax.Array] = None
    used_filter: Optional[jax.Array] = None


def default_tolerance(dtype: jnp.dtype) -> float:
    """Relative residual counted as converged: 2e-6 (float32), 1e-12 (float64).

    float32 rounding leaves a residual floor near 1e-6 for layers with O(1) inputs.
    """
    return 1e-12 if jnp.dtype(dtype) == jnp.float64 else 2e-6


def relative_residual(fx: jax.Array, y: jax.Array) -> jax.Array:
    """The residual max |f(x) - y| / max(1, max |y|) per example; NaN stays NaN.

    The maxima are over the last three axes (H, W, C).
    """
    axes = (-3, -2, -1)
    scale = jnp.maximum(1.0, jnp.max(jnp.abs(y), axis=axes))
    return jnp.max(jnp.abs(fx - y), axis=axes) / scale


def of_direct_solve(
    x: jax.Array,
    fx: jax.Array,
    y: jax.Array,
    *,
    tol: Optional[float] = None,
    **report: jax.Array,
) -> InverseResult:
    """The result of a direct (non-iterative) solve x of f(x) = y, given f(x).

    iterations = 0; converged = residual <= tol (`default_tolerance` of y's dtype
    unless given); `report` sets the optional fields (e.g. `min_abs_diagonal`).
    """
    residual = relative_residual(fx, y)
    tol = default_tolerance(y.dtype) if tol is None else tol
    return InverseResult(
        x=x,
        residual=residual,
        iterations=jnp.zeros((), jnp.int32),
        converged=residual <= tol,
        **report,
    )
