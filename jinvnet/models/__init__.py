"""Flax modules that own parameters and build jinvnet bijectors and densities.

Every flow module's `__call__(x)` returns a distrax bijector (data to latent). At
`init`, `x` is the first data batch and drives data-dependent initialisation
(ActNorm); at `apply`, only its shape matters.
"""

from jinvnet.models.actnorm import ActNorm
from jinvnet.models.conv1x1 import Conv1x1
from jinvnet.models.conv1x1 import Conv1x1LU
from jinvnet.models.coupling import AdditiveCoupling
from jinvnet.models.coupling import AffineCoupling
from jinvnet.models.density import FlowDensity
from jinvnet.models.density import standard_normal
from jinvnet.models.glow import glow_step
from jinvnet.models.glow import single_scale_glow
from jinvnet.models.reshaping import Permute
from jinvnet.models.reshaping import SneakyReLU
from jinvnet.models.reshaping import Squeeze
from jinvnet.models.sequential import Sequential
from jinvnet.models.sequential import propagate

__all__ = [
    "ActNorm",
    "AdditiveCoupling",
    "AffineCoupling",
    "Conv1x1",
    "Conv1x1LU",
    "FlowDensity",
    "Permute",
    "Sequential",
    "SneakyReLU",
    "Squeeze",
    "glow_step",
    "propagate",
    "single_scale_glow",
    "standard_normal",
]
