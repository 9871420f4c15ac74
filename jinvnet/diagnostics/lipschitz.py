"""Local bi-Lipschitz estimates by power iteration (Behrmann et al. 2021; seed 004).

For a bijector f at x, the local Lipschitz constants of f and f^{-1} are the largest
singular values of the Jacobians J_f(x) and J_{f^{-1}}(f(x)) = J_f(x)^{-1}. Power
iteration on J^T J uses one `jax.jvp` (J v) and one `jax.vjp` (J^T u) per step:

    v <- J^T J v / ||J^T J v||,    sigma_max ~ ||J v||   (a lower bound that converges).

The bijector acts on each example separately, so J is block diagonal over the batch
and the iteration runs on every example at once, normalising per example.

Example (f(x) = 3 x: Lipschitz 3 forward, 1/3 inverse):

    >>> import distrax, jax, jax.numpy as jnp
    >>> triple = distrax.Block(distrax.ScalarAffine(shift=0.0, scale=3.0), ndims=3)
    >>> x = jax.random.normal(jax.random.PRNGKey(0), (2, 4, 4, 1))
    >>> forward, inverse = lipschitz_estimates(triple, x, jax.random.PRNGKey(1))
    >>> [round(float(v), 4) for v in forward], [round(float(v), 4) for v in inverse]
    ([3.0, 3.0], [0.3333, 0.3333])
"""

from typing import Callable

import chex
import distrax
import jax

from jinvnet import _validation
from jinvnet.diagnostics.reconstruction import event_norm
from jinvnet.ops import gemm_conv


def _normalise(v: jax.Array) -> jax.Array:
    return v / event_norm(v)[..., None, None, None]


def largest_singular_value(
    fn: Callable[[jax.Array], jax.Array],
    x: jax.Array,
    key: chex.PRNGKey,
    *,
    num_iterations: int = 20,
) -> jax.Array:
    """Per-example estimate of the largest singular value of the Jacobian of fn at x.

    Args:
      fn: a function mapping (..., h, w, c) images to (..., h', w', c') images that
        acts on each example separately (e.g. `bijector.forward`).
      x: the point, of shape (..., h, w, c).
      key: PRNG key for the starting direction.
      num_iterations: power-iteration steps (default 20).

    Returns:
      Estimates of the batch shape (lower bounds on sigma_max that converge to it).

    Examples:
      >>> import jax, jax.numpy as jnp
      >>> s = largest_singular_value(lambda v: 3.0 * v, jnp.ones((1, 2, 2, 1)),
      ...                            jax.random.PRNGKey(0))
      >>> bool(jnp.allclose(s, 3.0))
      True
    """
    _validation.check_image(x, "largest_singular_value")
    _validation.check_positive_int(
        num_iterations, "largest_singular_value", "num_iterations"
    )
    # J v needs forward mode, which the CPU's GEMM convolution lacks: trace fn
    # with XLA's convolutions (same numbers).
    with gemm_conv.disabled():
        _, pull_back = jax.vjp(fn, x)

        def jvp(v):
            return jax.jvp(fn, (x,), (v,))[1]

        def step(_, v):
            return _normalise(pull_back(jvp(v))[0])

        v = _normalise(jax.random.normal(key, x.shape, x.dtype))
        v = jax.lax.fori_loop(0, num_iterations, step, v)
        return event_norm(jvp(v))


def lipschitz_estimates(
    bijector: distrax.Bijector,
    x: jax.Array,
    key: chex.PRNGKey,
    *,
    num_iterations: int = 20,
) -> tuple[jax.Array, jax.Array]:
    """Local Lipschitz estimates of f at x and of f^{-1} at f(x), per example.

    The bijector must support forward-mode autodiff (build memory-saving stacks
    with `memory_saving=False` for diagnostics).

    Returns:
      (forward, inverse): the largest singular values of J_f(x) and J_{f^{-1}}(f(x)),
      each of the batch shape. A huge or non-finite inverse value signals an
      exploding inverse.
    """
    k_forward, k_inverse = jax.random.split(key)
    forward = largest_singular_value(
        bijector.forward, x, k_forward, num_iterations=num_iterations
    )
    inverse = largest_singular_value(
        bijector.inverse, bijector.forward(x), k_inverse, num_iterations=num_iterations
    )
    return forward, inverse
