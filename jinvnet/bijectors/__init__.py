"""distrax bijectors over the pure ops in `jinvnet.ops`.

Images are NHWC with `event_ndims_in = 3`; every bijector composes with
`distrax.Chain`, `distrax.Inverse` and `distrax.Transformed`.
"""

from jinvnet.bijectors.act_on_channels import ActOnChannels
from jinvnet.bijectors.actnorm import ActNorm
from jinvnet.bijectors.additive_coupling import AdditiveCoupling
from jinvnet.bijectors.affine_coupling import AffineCoupling
from jinvnet.bijectors.checkerboard import Checkerboard
from jinvnet.bijectors.cinc import CInCConv
from jinvnet.bijectors.conditional_coupling import ConditionalCoupling
from jinvnet.bijectors.conv1x1 import Conv1x1
from jinvnet.bijectors.conv1x1_lu import Conv1x1LU
from jinvnet.bijectors.emerging import EmergingConv
from jinvnet.bijectors.fft_conv import FFTConv
from jinvnet.bijectors.iavgpool import IAvgPool2d
from jinvnet.bijectors.logit import Logit
from jinvnet.bijectors.mint import MintLayer, invert_with_diagnostics, mint_block
from jinvnet.bijectors.permute import Permute
from jinvnet.bijectors.quad_coupling import QuadCoupling
from jinvnet.bijectors.reversible_stack import ReversibleStack
from jinvnet.bijectors.revnet import IRevNetBlock, RevNetBlock
from jinvnet.bijectors.shapes import forward_shape, keeps_shape
from jinvnet.bijectors.sneaky_relu import SneakyReLU
from jinvnet.bijectors.split_prior import SplitPrior
from jinvnet.bijectors.squeeze import Squeeze

__all__ = [
    "ActNorm",
    "ActOnChannels",
    "AdditiveCoupling",
    "AffineCoupling",
    "Checkerboard",
    "CInCConv",
    "ConditionalCoupling",
    "Conv1x1",
    "Conv1x1LU",
    "EmergingConv",
    "FFTConv",
    "IAvgPool2d",
    "IRevNetBlock",
    "Logit",
    "MintLayer",
    "Permute",
    "QuadCoupling",
    "ReversibleStack",
    "RevNetBlock",
    "SneakyReLU",
    "SplitPrior",
    "Squeeze",
    "forward_shape",
    "invert_with_diagnostics",
    "keeps_shape",
    "mint_block",
]
