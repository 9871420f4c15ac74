"""Invertibility attack: search a small ball for a point whose round trip breaks.

Behrmann et al. 2021 (Fig. 4; seed 004) maximise the reconstruction error
||f^{-1}(f(x + d)) - (x + d)||_2 over ||d||_2 <= radius by gradient ascent. We use
projected normalised-gradient ascent (l2 PGD) per example:

    d <- Proj_{||d|| <= radius}(d + step_size * g / ||g||),   g = grad_d error^2,

and keep the largest error seen. A non-finite error is the strongest finding: it is
recorded as inf and the search stops moving for that example.

Example (an exact inverse leaves the attack nothing to find):

    >>> import distrax, jax, jax.numpy as jnp
    >>> triple = distrax.Block(distrax.ScalarAffine(shift=0.0, scale=3.0), ndims=3)
    >>> x = jax.random.normal(jax.random.PRNGKey(0), (2, 4, 4, 1))
    >>> result = invertibility_attack(triple, x, jax.random.PRNGKey(1), num_steps=5)
    >>> isinstance(result, AttackResult), result.x.shape, result.history.shape
    (True, (2, 4, 4, 1), (5, 2))
    >>> bool((result.error < 1e-6).all())
    True
"""

from typing import NamedTuple

import chex
import distrax
import jax
import jax.numpy as jnp

from jinvnet import _validation
from jinvnet.diagnostics.reconstruction import event_norm

_NAME = "invertibility_attack"


class AttackResult(NamedTuple):
    """Outcome of `invertibility_attack`, per example.

    Attributes:
      x: the worst input found, x + d with ||d|| <= radius.
      error: its absolute reconstruction error (inf if non-finite).
      initial_error: the absolute reconstruction error at the clean x.
      history: the largest error so far after each step, shape (num_steps, batch...).
    """

    x: jax.Array
    error: jax.Array
    initial_error: jax.Array
    history: jax.Array


def _project(d: jax.Array, radius: float) -> jax.Array:
    norm = event_norm(d)[..., None, None, None]
    return d * jnp.minimum(1.0, radius / jnp.maximum(norm, 1e-30))


def _finite_or_inf(error: jax.Array) -> jax.Array:
    return jnp.where(jnp.isfinite(error), error, jnp.inf)


def invertibility_attack(
    bijector: distrax.Bijector,
    x: jax.Array,
    key: chex.PRNGKey,
    *,
    radius: float = 0.1,
    num_steps: int = 50,
    step_size: float | None = None,
) -> AttackResult:
    """Gradient ascent on the reconstruction error within an l2 ball around x.

    Args:
      bijector: any bijector on images.
      x: clean inputs of shape (..., height, width, channels).
      key: PRNG key for the random start inside the ball.
      radius: l2 radius of the ball per example (default 0.1).
      num_steps: ascent steps (default 50).
      step_size: l2 length of each step (default radius / 4).

    Returns:
      An `AttackResult`.

    Raises:
      ValueError: non-positive radius or step count, or a non-image x.
    """
    _validation.check_image(x, _NAME)
    _validation.check_positive_int(num_steps, _NAME, "num_steps")
    if not radius > 0:
        raise ValueError(f"{_NAME}: radius must be positive, got {radius}")
    step_size = radius / 4 if step_size is None else step_size

    def error_of(d):
        v = x + d
        return event_norm(bijector.inverse(bijector.forward(v)) - v)

    def objective(d):
        error = error_of(d)
        return jnp.sum(jnp.where(jnp.isfinite(error), error, 0.0) ** 2), error

    def step(carry, _):
        d, best_d, best_error = carry
        grad, error = jax.grad(objective, has_aux=True)(d)
        error = _finite_or_inf(error)
        improved = error > best_error
        best_error = jnp.where(improved, error, best_error)
        best_d = jnp.where(improved[..., None, None, None], d, best_d)
        norm = event_norm(grad)[..., None, None, None]
        usable = (
            jnp.isfinite(norm) & (norm > 0) & jnp.isfinite(error)[..., None, None, None]
        )
        moved = _project(d + step_size * grad / jnp.where(usable, norm, 1.0), radius)
        d = jnp.where(usable, moved, d)
        return (d, best_d, best_error), best_error

    initial_error = _finite_or_inf(error_of(jnp.zeros_like(x)))
    start = _project(0.1 * radius * _unit(key, x), radius)
    (_, best_d, best_error), history = jax.lax.scan(
        step, (start, jnp.zeros_like(x), initial_error), None, length=num_steps
    )
    return AttackResult(x + best_d, best_error, initial_error, history)


def _unit(key: chex.PRNGKey, x: jax.Array) -> jax.Array:
    d = jax.random.normal(key, x.shape, x.dtype)
    return d / event_norm(d)[..., None, None, None]
