"""jinvnet: invertible neural networks and normalizing flows in JAX/Flax."""

from jinvnet import bijectors
from jinvnet import checked
from jinvnet import diagnostics
from jinvnet import models
from jinvnet import ops
from jinvnet import regularization

__version__ = "0.1.0"

__all__ = [
    "bijectors",
    "checked",
    "diagnostics",
    "models",
    "ops",
    "regularization",
]
