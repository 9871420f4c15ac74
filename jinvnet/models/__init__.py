"""Flax modules that own parameters and build jinvnet bijectors and densities.

Every flow module's `__call__(x)` returns a distrax bijector (data to latent). At
`init`, `x` is the first data batch and drives data-dependent initialisation
(ActNorm); at `apply`, only its shape matters.
"""

from jinvnet.models.actnorm import ActNorm
from jinvnet.models.cinc import CInCConv
from jinvnet.models.conv1x1 import Conv1x1
from jinvnet.models.conv1x1 import Conv1x1LU
from jinvnet.models.coupling import AdditiveCoupling
from jinvnet.models.coupling import AffineCoupling
from jinvnet.models.coupling import QuadCoupling
from jinvnet.models.density import FlowDensity
from jinvnet.models.density import standard_normal
from jinvnet.models.emerging import EmergingConv
from jinvnet.models.downsampling import Checkerboard
from jinvnet.models.downsampling import IAvgPool2d
from jinvnet.models.fft_conv import FFTConv
from jinvnet.models.glow import glow_step
from jinvnet.models.glow import single_scale_glow
from jinvnet.models.irevnet import IRevNet
from jinvnet.models.irevnet import IRevNetClassifier
from jinvnet.models.mintnet import MintLayer
from jinvnet.models.mintnet import MintNetClassifier
from jinvnet.models.mintnet import mint_block
from jinvnet.models.mintnet import mintnet
from jinvnet.models.mintnet import mintnet_preset
from jinvnet.models.iconvnet import IConvNet
from jinvnet.models.iconvnet import iconvnet_flow
from jinvnet.models.iconvnet import invertible_features
from jinvnet.models.multiscale import MultiScaleFlow
from jinvnet.models.multiscale import count_params
from jinvnet.models.reshaping import Permute
from jinvnet.models.reshaping import SneakyReLU
from jinvnet.models.reshaping import Squeeze
from jinvnet.models.sampling import sample
from jinvnet.models.sequential import Sequential
from jinvnet.models.sequential import propagate
from jinvnet.models.split import ActOnChannels
from jinvnet.models.split import SplitPrior

__all__ = [
    "ActNorm",
    "CInCConv",
    "ActOnChannels",
    "AdditiveCoupling",
    "AffineCoupling",
    "Checkerboard",
    "Conv1x1",
    "Conv1x1LU",
    "EmergingConv",
    "FFTConv",
    "FlowDensity",
    "MintLayer",
    "MintNetClassifier",
    "IAvgPool2d",
    "IConvNet",
    "IRevNet",
    "IRevNetClassifier",
    "MultiScaleFlow",
    "Permute",
    "QuadCoupling",
    "Sequential",
    "SneakyReLU",
    "SplitPrior",
    "Squeeze",
    "count_params",
    "iconvnet_flow",
    "invertible_features",
    "glow_step",
    "mint_block",
    "mintnet",
    "mintnet_preset",
    "propagate",
    "sample",
    "single_scale_glow",
    "standard_normal",
]
