"""A stability report that flags exploding inverses (Behrmann et al. 2021; seed 004).

Example (a doctest):

    >>> import distrax, jax, jax.numpy as jnp
    >>> triple = distrax.Block(distrax.ScalarAffine(shift=0.0, scale=3.0), ndims=3)
    >>> x = jax.random.normal(jax.random.PRNGKey(0), (4, 4, 4, 1))
    >>> report = stability_report(triple, x, jax.random.PRNGKey(1))
    >>> isinstance(report, StabilityReport), report.flags     # nothing flagged
    (True, ())
    >>> round(report.forward_lipschitz, 3), round(report.inverse_lipschitz, 3)
    (3.0, 0.333)
"""

import dataclasses

import chex
import distrax
import jax
import jax.numpy as jnp
import numpy as np

from jinvnet import _validation, bijectors
from jinvnet.diagnostics.attack import invertibility_attack
from jinvnet.diagnostics.lipschitz import lipschitz_estimates
from jinvnet.diagnostics.reconstruction import (
    ood_inputs,
    reconstruction_error,
    sample_reconstruction_error,
)


@dataclasses.dataclass(frozen=True)
class StabilityReport:
    """Worst-case (max over the batch) diagnostics of one bijector.

    Attributes:
      errors: relative reconstruction errors max_i ||f^{-1}(f(x_i)) - x_i|| /
        max(||x_i||, 1), keyed "data", "samples", each `ood_inputs` name and
        "attack" (the attack's error relative to the clean input's norm).
      forward_lipschitz: max local Lipschitz estimate of f on the data.
      inverse_lipschitz: max local Lipschitz estimate of f^{-1} on the data.
      flags: human-readable reasons why the inverse is considered exploding.
    """

    errors: dict[str, float]
    forward_lipschitz: float
    inverse_lipschitz: float
    flags: tuple[str, ...]

    @property
    def exploding(self) -> bool:
        """Whether any check failed (non-finite or above its threshold)."""
        return bool(self.flags)

    def as_dict(self) -> dict[str, float]:
        """Flat {name: value} for tables and logs."""
        row = {f"error/{name}": value for name, value in self.errors.items()}
        row["lipschitz/forward"] = self.forward_lipschitz
        row["lipschitz/inverse"] = self.inverse_lipschitz
        row["exploding"] = float(self.exploding)
        return row


def _worst(values: jax.Array) -> float:
    values = np.asarray(values, np.float64)
    return float(np.inf) if not np.all(np.isfinite(values)) else float(values.max())


def stability_report(
    bijector: distrax.Bijector,
    x: jax.Array,
    key: chex.PRNGKey,
    *,
    error_threshold: float = 1e-3,
    lipschitz_threshold: float = 1e4,
    attack_radius: float | None = None,
    attack_steps: int = 20,
    num_power_iterations: int = 20,
) -> StabilityReport:
    """Runs every diagnostic on a batch and flags exploding inverses.

    Flags are raised when a relative reconstruction error (data, OOD inputs,
    samples, attack) is non-finite or above `error_threshold`, or when a local
    Lipschitz estimate is non-finite or above `lipschitz_threshold`.

    Args:
      bijector: the data-to-latent bijector; it must support `jax.jvp` (build
        memory-saving stacks with `memory_saving=False`).
      x: a batch of data of shape (batch, height, width, channels).
      key: PRNG key (OOD inputs, samples, power iteration, attack start).
      error_threshold: largest acceptable relative reconstruction error (1e-3).
      lipschitz_threshold: largest acceptable local Lipschitz estimate (1e4).
      attack_radius: l2 radius of the attack per example (default 1% of the
        mean ||x_i||).
      attack_steps: attack steps (default 20).
      num_power_iterations: power-iteration steps (default 20).

    Returns:
      A `StabilityReport` (concrete Python floats; call it outside `jit`).
    """
    _validation.check_image(x, "stability_report")
    norms = jnp.sqrt(jnp.sum(x**2, axis=(-3, -2, -1)))
    radius = 0.01 * float(jnp.mean(norms)) if attack_radius is None else attack_radius
    latent_shape = bijectors.forward_shape(bijector, x).shape

    @jax.jit
    def run(x, key):
        k_ood, k_samples, k_lipschitz, k_attack = jax.random.split(key, 4)
        errors = {"data": reconstruction_error(bijector, x)}
        for name, inputs in ood_inputs(k_ood, x).items():
            errors[name] = reconstruction_error(bijector, inputs)
        errors["samples"] = sample_reconstruction_error(
            bijector, k_samples, latent_shape, dtype=x.dtype
        )
        attack = invertibility_attack(
            bijector, x, k_attack, radius=radius, num_steps=attack_steps
        )
        errors["attack"] = attack.error / jnp.maximum(norms, 1.0)
        lipschitz = lipschitz_estimates(
            bijector, x, k_lipschitz, num_iterations=num_power_iterations
        )
        return errors, lipschitz

    errors, (forward, inverse) = run(x, key)
    errors = {name: _worst(value) for name, value in errors.items()}
    forward_lipschitz, inverse_lipschitz = _worst(forward), _worst(inverse)
    flags = [
        f"reconstruction error on {name} is {value:.3g} (threshold {error_threshold:g})"
        for name, value in errors.items()
        if not value <= error_threshold
    ]
    flags += [
        f"{name} Lipschitz estimate is {value:.3g} (threshold {lipschitz_threshold:g})"
        for name, value in (
            ("forward", forward_lipschitz),
            ("inverse", inverse_lipschitz),
        )
        if not value <= lipschitz_threshold
    ]
    return StabilityReport(errors, forward_lipschitz, inverse_lipschitz, tuple(flags))
