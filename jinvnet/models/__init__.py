"""Flax modules that own parameters and build jinvnet bijectors and densities.

Every flow module's `__call__(x)` returns a distrax bijector (data to latent). At
`init`, `x` is the first data batch and drives data-dependent initialisation
(ActNorm); at `apply`, only its shape matters. Parameters take the dtype of `x`,
which must be float32 or float64: float16 and bfloat16 inputs raise a ValueError
(keep the flow in float32 under mixed precision).

The multi-scale flows of seed 001 are `glow`, `emerging`, `cinc` and `cinc_quad`
(factories of `MultiScaleFlow`, defined in `jinvnet.models.multiscale`); the
layers they are built from live in modules named after their classes
(`cinc_conv.CInCConv`, `emerging_conv.EmergingConv`, `conv1x1.Conv1x1LU`, ...).
"""

from jinvnet.models.actnorm import ActNorm
from jinvnet.models.cinc_conv import CInCConv
from jinvnet.models.conv1x1 import Conv1x1, Conv1x1LU
from jinvnet.models.coupling import AdditiveCoupling, AffineCoupling, QuadCoupling
from jinvnet.models.density import FlowDensity, standard_normal
from jinvnet.models.diagonal_base import DiagonalGaussianBase
from jinvnet.models.downsampling import Checkerboard, IAvgPool2d
from jinvnet.models.emerging_conv import EmergingConv
from jinvnet.models.fft_conv import FFTConv
from jinvnet.models.iconvnet import IConvNet, iconvnet_flow, invertible_features
from jinvnet.models.irevnet import IRevNet, IRevNetClassifier
from jinvnet.models.mintnet import (
    MintLayer,
    MintNetClassifier,
    mint_block,
    mintnet,
    mintnet_preset,
)
from jinvnet.models.multiscale import MultiScaleFlow, cinc, cinc_quad, emerging, glow
from jinvnet.models.parameter_count import count_params, free_param_count
from jinvnet.models.reshaping import Logit, Permute, SneakyReLU, Squeeze
from jinvnet.models.sampling import sample
from jinvnet.models.scanned_steps import ScannedSteps, stack_steps, unstack_steps
from jinvnet.models.sequential import Sequential, propagate
from jinvnet.models.single_scale import glow_step, single_scale_glow
from jinvnet.models.split import ActOnChannels, SplitPrior
from jinvnet.models.variational_dequantization import (
    Bound,
    Dequantizer,
    VariationalDequantization,
)

__all__ = [
    "ActNorm",
    "CInCConv",
    "ActOnChannels",
    "AdditiveCoupling",
    "AffineCoupling",
    "Bound",
    "Checkerboard",
    "Conv1x1",
    "Conv1x1LU",
    "Dequantizer",
    "DiagonalGaussianBase",
    "EmergingConv",
    "FFTConv",
    "FlowDensity",
    "Logit",
    "MintLayer",
    "MintNetClassifier",
    "IAvgPool2d",
    "IConvNet",
    "IRevNet",
    "IRevNetClassifier",
    "MultiScaleFlow",
    "Permute",
    "QuadCoupling",
    "ScannedSteps",
    "Sequential",
    "SneakyReLU",
    "SplitPrior",
    "Squeeze",
    "VariationalDequantization",
    "cinc",
    "cinc_quad",
    "count_params",
    "emerging",
    "free_param_count",
    "iconvnet_flow",
    "invertible_features",
    "glow",
    "glow_step",
    "mint_block",
    "mintnet",
    "mintnet_preset",
    "propagate",
    "sample",
    "single_scale_glow",
    "stack_steps",
    "standard_normal",
    "unstack_steps",
]
