"""Mint layers (MintNet, seed 002): masked triangular layers, fixed-point inverse."""

from typing import Any, Optional

import distrax
import jax

from jinvnet.bijectors._op_bijector import OpBijector
from jinvnet.ops import mint


class MintLayer(OpBijector):
    """One Mint layer m(x) with a lower (or upper) triangular Jacobian.

    m(x) = t x + sum_i W3_i h(sum_j W2_ij h(W1_j x + b1_j) + b2_ij) + b3 with
    masked convolutions W and h = ELU (seed 002, Eq. 5); log|det| = sum log d(x),
    d its analytic Jacobian diagonal (`jinvnet.ops.mint`). Event shape (height,
    width, channels). The inverse runs Algorithm 1, x <- x - alpha (m(x) - z) /
    d(x) from x = z, with the tolerance loop (`mint.solve`), or with
    exactly `num_steps` steps (`mint.solve_fixed_steps`) when that is set. An
    example that does not reach `tol` comes back as NaN (with a NaN log-det), never
    as a finite wrong answer; `solve` returns the iterate with its residual and
    convergence flags.

    Args:
      params: `mint.Params`.
      upper: upper instead of lower triangular masks (default False).
      alpha: fixed-point step size, 0 < alpha < 2 (default 1.0).
      tol: relative residual to stop at; None (default) picks it by dtype.
      max_iters: most steps of the tolerance loop (default 100).
      num_steps: if set, a fixed number of steps instead of the tolerance loop.
      on_failure: "nan" (default) or "raise": also a `checkify` check, which
        raises eagerly and under `jinvnet.checked` (`mint.converged_or_nan`).
      anderson_memory: 1 (default) is Algorithm 1; m >= 2 accelerates it by
        Anderson mixing of the last m iterates (`mint.solve`).

    Raises:
      ValueError: an unknown on_failure.

    Examples:
      >>> import jax, jax.numpy as jnp
      >>> from jinvnet import ops
      >>> key = jax.random.PRNGKey(0)
      >>> bijector = MintLayer(ops.mint.init(key, 4))
      >>> x = jax.random.normal(jax.random.PRNGKey(1), (2, 8, 8, 4))
      >>> y, log_det = bijector.forward_and_log_det(x)
      >>> log_det.shape, bool(jnp.allclose(bijector.inverse(y), x, atol=1e-4))
      ((2,), True)
    """

    keeps_shape = True

    def __init__(
        self,
        params: mint.Params,
        *,
        upper: bool = False,
        alpha: float = 1.0,
        tol: Optional[float] = None,
        max_iters: int = 100,
        num_steps: Optional[int] = None,
        on_failure: str = "nan",
        anderson_memory: int = 1,
    ):
        op = mint.with_options(
            upper=upper,
            alpha=alpha,
            tol=tol,
            max_iters=max_iters,
            num_steps=num_steps,
            on_failure=on_failure,
            anderson_memory=anderson_memory,
        )
        super().__init__(op, params)
        self.upper = upper
        self.options = {
            "alpha": alpha,
            "tol": tol,
            "max_iters": max_iters,
            "anderson_memory": anderson_memory,
        }
        self.num_steps = num_steps

    def solve(self, y: jax.Array) -> mint.InverseResult:
        """The inverse with its diagnostics (residual, iterations, converged)."""
        self._check_inverse_input_shape(y)
        if self.num_steps is None:
            return mint.solve(self.params, y, upper=self.upper, **self.options)
        options = {k: v for k, v in self.options.items() if k != "max_iters"}
        return mint.solve_fixed_steps(
            self.params, y, num_steps=self.num_steps, upper=self.upper, **options
        )


def invert_with_diagnostics(
    bijector: distrax.Bijector, y: jax.Array
) -> tuple[jax.Array, list[mint.InverseResult]]:
    """Inverts a composition of bijectors, collecting every Mint layer's diagnostics.

    `distrax.Chain`s are walked (their first element is inverted first); Mint
    layers run `MintLayer.solve`, every other bijector its plain inverse.

    Args:
      bijector: a `MintLayer`, or a (nested) `distrax.Chain` containing them.
      y: the output to invert, of shape (batch, height, width, channels).

    Returns:
      x and the list of `mint.InverseResult`s in the order the layers were inverted.
    """
    if isinstance(bijector, distrax.Chain):
        results = []
        for inner in bijector.bijectors:
            y, inner_results = invert_with_diagnostics(inner, y)
            results.extend(inner_results)
        return y, results
    if isinstance(bijector, MintLayer):
        result = bijector.solve(y)
        return result.x, [result]
    return bijector.inverse(y), []


def mint_block(
    lower: mint.Params, upper: mint.Params, **inverse_options: Any
) -> distrax.Bijector:
    """A paired Mint block: the lower layer, then the upper one (data to latent).

    The pair's Jacobian is a product of a lower and an upper triangular matrix, so
    it is dense: no output is blind to any input (Sec. 4 of the paper).

    Args:
      lower: parameters of the lower triangular layer (applied first).
      upper: parameters of the upper triangular layer.
      **inverse_options: `alpha`, `tol`, `max_iters`, `num_steps`, `on_failure`,
        `anderson_memory` for both layers.

    Returns:
      `distrax.Chain([MintLayer(upper, upper=True), MintLayer(lower)])`.

    Examples:
      >>> import jax, jax.numpy as jnp
      >>> from jinvnet import ops
      >>> lower = ops.mint.init(jax.random.PRNGKey(0), 2)
      >>> upper = ops.mint.init(jax.random.PRNGKey(1), 2)
      >>> block = mint_block(lower, upper, alpha=1.0)      # a distrax Chain
      >>> x = jax.random.normal(jax.random.PRNGKey(2), (3, 4, 4, 2))
      >>> x_back, results = invert_with_diagnostics(block, block.forward(x))
      >>> bool(jnp.allclose(x_back, x, atol=1e-5)), len(results)   # one per layer
      (True, 2)
      >>> all(bool(r.converged.all()) for r in results)
      True
    """
    return distrax.Chain(
        [
            MintLayer(upper, upper=True, **inverse_options),
            MintLayer(lower, **inverse_options),
        ]
    )
