"""Stability diagnostics for invertible networks (Behrmann et al. 2021; seed 004).

Everything here takes any distrax bijector on images (event shape (height, width,
channels)): reconstruction errors in and out of distribution and on samples, local
bi-Lipschitz estimates by power iteration, an invertibility attack, a report that
flags exploding inverses, and the angle between memory-saving and standard gradients.
"""

from jinvnet.diagnostics.attack import AttackResult, invertibility_attack
from jinvnet.diagnostics.gradients import gradient_angle
from jinvnet.diagnostics.lipschitz import largest_singular_value, lipschitz_estimates
from jinvnet.diagnostics.reconstruction import (
    ood_inputs,
    reconstruction_error,
    sample_reconstruction_error,
)
from jinvnet.diagnostics.report import StabilityReport, stability_report

__all__ = [
    "AttackResult",
    "StabilityReport",
    "gradient_angle",
    "invertibility_attack",
    "largest_singular_value",
    "lipschitz_estimates",
    "ood_inputs",
    "reconstruction_error",
    "sample_reconstruction_error",
    "stability_report",
]
