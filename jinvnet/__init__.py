"""jinvnet: invertible neural networks and normalizing flows in JAX/Flax."""

from jinvnet import bijectors, checked, diagnostics, models, ops, regularization

__version__ = "0.1.0"

__all__ = [
    "bijectors",
    "checked",
    "diagnostics",
    "models",
    "ops",
    "regularization",
]
