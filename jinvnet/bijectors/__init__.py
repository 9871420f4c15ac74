"""distrax bijectors over the pure ops in `jinvnet.ops`.

Images are NHWC with `event_ndims_in = 3`; every bijector composes with
`distrax.Chain`, `distrax.Inverse` and `distrax.Transformed`.
"""

from jinvnet.bijectors.actnorm import ActNorm
from jinvnet.bijectors.additive_coupling import AdditiveCoupling
from jinvnet.bijectors.affine_coupling import AffineCoupling
from jinvnet.bijectors.conv1x1 import Conv1x1
from jinvnet.bijectors.conv1x1_lu import Conv1x1LU
from jinvnet.bijectors.permute import Permute
from jinvnet.bijectors.sneaky_relu import SneakyReLU
from jinvnet.bijectors.squeeze import Squeeze

__all__ = [
    "ActNorm",
    "AdditiveCoupling",
    "AffineCoupling",
    "Conv1x1",
    "Conv1x1LU",
    "Permute",
    "SneakyReLU",
    "Squeeze",
]
