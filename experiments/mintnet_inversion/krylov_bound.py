"""How few fixed-point passes can invert a Mint layer? The Krylov lower bound.

Algorithm 1 (x <- x - (m(x) - z) / d(x), from x_0 = z) and its Anderson
acceleration build every iterate from the layer's outputs at earlier iterates.
Linearised at the solution x*, with J = dm/dx(x*) = D (I + N) (D its diagonal, N
strictly triangular: `ops.mint`), the error of any such method after k steps is

    e_k = s(N) e_0,   e_0 = z - x*,   s a polynomial of degree <= k with s(-1) = 1

(the residual polynomial p(A) of the preconditioned A = D^-1 J = I + N, p(0) = 1,
written in N = A - I). Algorithm 1 is s(v) = (-v)^k; Anderson and GMRES choose other
coefficients. The smallest error any of them can reach in k steps is therefore

    min over s_0..s_k with sum_j (-1)^j s_j = 1 of max_i |sum_j s_j (N^j e_0)_i|,

a small linear programme per example (`scipy.optimize.linprog`, HiGHS) over the
k + 1 vectors N^j e_0 (k Jacobian-vector products). If it stays above the target
after k steps, no method of this family gets there in k + 1 passes on this layer,
however it mixes its iterates. (Linearised: the first steps, far from x*, also see
the layer's curvature; near the target the linear model is exact to second order.)
"""

import functools

import distrax
import jax
import jax.numpy as jnp
import numpy as np
from scipy import optimize

from jinvnet import bijectors
from jinvnet.ops import mint


def mint_layers(bijector: distrax.Bijector, x: jax.Array) -> list[tuple]:
    """(MintLayer, its input, its output) for every Mint layer, in forward order.

    Walks nested `distrax.Chain`s as distrax applies them (last element first).
    """
    return _walk(bijector, x)[0]


def _walk(bijector, x):
    if isinstance(bijector, distrax.Chain):
        layers = []
        for inner in reversed(bijector.bijectors):
            found, x = _walk(inner, x)
            layers += found
        return layers, x
    y = bijector.forward(x)
    if isinstance(bijector, bijectors.MintLayer):
        return [(bijector, x, y)], y
    return [], y


@functools.partial(jax.jit, static_argnames=("upper", "steps"))
def krylov_vectors(
    params: mint.Params, x_star: jax.Array, z: jax.Array, *, upper: bool, steps: int
) -> jax.Array:
    """N^j e_0 for j = 0 .. steps: shape (steps + 1, batch, H, W, C).

    N v = D^-1 (J v) - v at x*, with J v a forward-mode product of `mint`'s
    forward pass (XLA's convolutions: forward mode works).
    """

    def output(x):
        return mint.forward_and_diagonal(params, x, upper=upper)[0]

    _, diag = mint.forward_and_diagonal(params, x_star, upper=upper)

    def apply_n(v):
        return jax.jvp(output, (x_star,), (v,))[1] / diag - v

    vectors = [z - x_star]
    for _ in range(steps):
        vectors.append(apply_n(vectors[-1]))
    return jnp.stack(vectors)


def min_max_combination(vectors: np.ndarray) -> float:
    """min over s with sum_j (-1)^j s_j = 1 of max |sum_j s_j v_j| (one example).

    vectors: (k + 1, n), row j = N^j e_0. Solved as a linear programme in (s, t):
    minimise t subject to -t <= V^T s <= t elementwise and the constraint on s,
    with each v_j scaled to unit max-norm first (they shrink by orders of magnitude
    with j, which HiGHS's simplex does not survive unscaled).

    Raises:
      RuntimeError: if HiGHS fails on the programme (never a quiet number).
    """
    vectors = np.asarray(vectors, np.float64)
    norms = np.max(np.abs(vectors), axis=1)
    keep = norms > 0  # a zero v_j adds nothing (N^j e_0 = 0: the exact answer)
    if not keep.all():
        return 0.0
    count, size = vectors.shape
    vt = (vectors / norms[:, None]).T
    ones = np.ones((size, 1))
    cost = np.zeros(count + 1)
    cost[-1] = 1.0
    a_ub = np.block([[vt, -ones], [-vt, -ones]])
    a_eq = np.append((-1.0) ** np.arange(count) / norms, 0.0)[None, :]
    bounds = [(None, None)] * count + [(0, None)]
    messages = []
    for method in ("highs-ds", "highs-ipm"):
        result = optimize.linprog(
            cost,
            a_ub,
            np.zeros(2 * size),
            a_eq,
            np.ones(1),
            bounds=bounds,
            method=method,
        )
        if result.success:
            return _checked(vectors, result.x[:-1] / norms, float(result.x[-1]))
        messages.append(f"{method}: {result.message}")
    raise RuntimeError(
        "krylov_bound: the linear programme failed: " + "; ".join(messages)
    )


def _checked(vectors: np.ndarray, s: np.ndarray, optimum: float) -> float:
    """The optimum, after checking that the coefficients reach it (float64).

    HiGHS works to tolerances of about 1e-7; the combination sum_j s_j v_j, with s
    rescaled to meet the constraint exactly, must reach the reported value within
    1e-6 of max |v_0|, or the programme's answer is not trusted.
    """
    s = s / np.sum((-1.0) ** np.arange(len(s)) * s)
    reached = float(np.max(np.abs(s @ vectors)))
    if abs(reached - optimum) > 1e-6 * np.max(np.abs(vectors[0])):
        raise RuntimeError(
            f"krylov_bound: the programme reports {optimum:.3e}, its coefficients "
            f"reach {reached:.3e}"
        )
    return max(optimum, 0.0)


def layer_bounds(layer, x_star, z, steps_list) -> dict:
    """Per k: Algorithm 1's linearised error and the Krylov optimum, both relative.

    Errors are max over the batch of max_i |e_i|, divided by max |x*| over the batch
    (the measure of `experiments/mintnet_inversion`'s tables).
    """
    k_max = max(steps_list)
    vectors = np.asarray(
        krylov_vectors(layer.params, x_star, z, upper=layer.upper, steps=k_max),
        np.float64,
    )
    vectors = vectors.reshape(k_max + 1, x_star.shape[0], -1)
    scale = float(np.max(np.abs(np.asarray(x_star))))
    rows = {}
    for k in steps_list:
        jacobi = np.max(np.abs(vectors[k])) / scale
        optimum = max(
            min_max_combination(vectors[: k + 1, b]) for b in range(vectors.shape[1])
        )
        rows[k] = {"algorithm_1": float(jacobi), "krylov_optimum": optimum / scale}
    return rows
