"""Multi-scale flows (Glow, Emerging, CInC Flow) as one shape-preserving bijector.

The architecture of Glow (Kingma & Dhariwal 2018), Emerging convolutions
(Hoogeboom et al. 2019) and CInC Flow (seed 001, Fig. 3): L levels, each a squeeze,
D flow steps {ActNorm, invertible convolution, coupling}, and (except the last) a
split whose factored-out half gets a learned conditional prior.

Layout (our design, `DESIGN.md` "The whole flow is one bijector"). Level l maps
an image of shape (h, w, c) to a latent of the same shape:

    M_l = unsqueeze o ActOnChannels(2c, M_{l+1}) o SplitPrior o steps o squeeze
    M_L = unsqueeze o steps o squeeze                       (last level, no split)

After the squeeze the level works at (h/2, w/2, 4c); `SplitPrior` keeps the first 2c
channels and whitens the other 2c by N(mu(z1), sigma(z1)^2); the next level acts on
the kept 2c channels only (`ActOnChannels`) and returns them in the same shape; the
final unsqueeze restores (h, w, c). Every factored-out z stays in the output, which
is a fixed permutation of Glow's concatenated latents, so the standard normal base
of `FlowDensity` is exactly the hierarchical prior and the round trip carries every
split z. Log-det: the sum over all steps and splits (squeezes contribute 0).

Example (a doctest): the four presets of seed 001's tables, at toy sizes.

    >>> import jax, jax.numpy as jnp
    >>> from jinvnet.models import FlowDensity
    >>> x = jax.random.uniform(jax.random.PRNGKey(0), (2, 8, 8, 3)) - 0.5
    >>> for preset in (glow, emerging, cinc, cinc_quad):
    ...     model = FlowDensity(preset(num_levels=2, steps_per_level=1,
    ...                                hidden_channels=8))
    ...     density = model.apply(model.init(jax.random.PRNGKey(1), x), x)
    ...     print(preset.__name__, density.log_prob(x).shape)
    glow (2,)
    emerging (2,)
    cinc (2,)
    cinc_quad (2,)
"""

import functools
from typing import Any

import distrax
import flax.linen as nn
import jax

from jinvnet import _validation, bijectors
from jinvnet.models.actnorm import ActNorm
from jinvnet.models.cinc_conv import CInCConv
from jinvnet.models.conv1x1 import Conv1x1LU
from jinvnet.models.coupling import AffineCoupling, QuadCoupling
from jinvnet.models.diagonal_base import DiagonalGaussianBase
from jinvnet.models.emerging_conv import EmergingConv
from jinvnet.models.fft_conv import FFTConv
from jinvnet.models.reshaping import Logit, Squeeze
from jinvnet.models.scanned_steps import ScannedSteps
from jinvnet.models.sequential import Sequential, propagate
from jinvnet.models.split import ActOnChannels, SplitPrior
from jinvnet.ops import cinc as cinc_op
from jinvnet.ops import emerging as emerging_op
from jinvnet.ops.conv_net import HIDDEN_INITS

CONVS = ("1x1", "emerging", "cinc", "fft")
COUPLINGS = ("affine", "quad")
# Each convolution's inverse solvers; CInC adds "filter" to the ones they share.
_SOLVERS = {"cinc": cinc_op.METHODS, "emerging": emerging_op.METHODS}
INVERSE_METHODS = cinc_op.METHODS  # ("fast", "rows", "wavefront", "filter", "scan")


def _convs(kind: str, inverse_method: str) -> list[nn.Module]:
    """The invertible convolution(s) of one step; `inverse_method` where it applies.

    "cinc" is seed 001's modification of the emerging layer ("we modified the
    emerging convolution layer to use our standard convolution", Sec. 4): the LU 1x1
    convolution followed by one CInC 3x3 convolution in place of emerging's two masked
    ones. The 1x1 gives the full channel mixing at the current pixel that the CInC
    kernel's triangular centre tap cannot.
    """
    if kind == "cinc":
        return [Conv1x1LU(), CInCConv(method=inverse_method)]
    if kind == "emerging":
        return [EmergingConv(method=inverse_method)]
    if kind == "fft":
        return [FFTConv()]
    return [Conv1x1LU()]


def _coupling(
    kind: str, hidden_channels: int, min_scale: float, hidden_init: str
) -> nn.Module:
    """The coupling of one step; quad needs 4 | channels, as squeezed ones are."""
    if kind == "quad":
        return QuadCoupling(hidden_channels=hidden_channels, hidden_init=hidden_init)
    return AffineCoupling(
        hidden_channels=hidden_channels, min_scale=min_scale, hidden_init=hidden_init
    )


class _Unsqueeze(nn.Module):
    """Depth to space, the inverse of `Squeeze`; no parameters."""

    @nn.compact
    def __call__(self, x: jax.Array) -> distrax.Bijector:
        return distrax.Inverse(bijectors.Squeeze())


class _Step(nn.Module):
    """One flow step: ActNorm, invertible convolution (`_convs`), coupling."""

    conv: str
    coupling: str
    hidden_channels: int
    inverse_method: str
    coupling_min_scale: float
    coupling_init: str

    @nn.compact
    def __call__(self, x: jax.Array) -> distrax.Bijector:
        layers = [
            ActNorm(),
            *_convs(self.conv, self.inverse_method),
            _coupling(
                self.coupling,
                self.hidden_channels,
                self.coupling_min_scale,
                self.coupling_init,
            ),
        ]
        return Sequential(layers)(x)


class _Level(nn.Module):
    """Level `level` of the flow (0-based) and, nested inside it, all later ones."""

    level: int
    num_levels: int
    steps_per_level: int
    conv: str
    coupling: str
    hidden_channels: int
    prior_hidden_channels: int
    inverse_method: str
    coupling_min_scale: float
    coupling_init: str
    split_prior: bool = True
    scan_steps: bool = True
    scan_unroll: int = 1

    @nn.compact
    def __call__(self, x: jax.Array) -> distrax.Bijector:
        step = dict(
            conv=self.conv,
            coupling=self.coupling,
            hidden_channels=self.hidden_channels,
            inverse_method=self.inverse_method,
            coupling_min_scale=self.coupling_min_scale,
            coupling_init=self.coupling_init,
        )
        layers = [Squeeze()]
        if self.scan_steps:
            make_step = functools.partial(_Step, **step)
            layers.append(
                ScannedSteps(
                    make_step, self.steps_per_level, self.scan_unroll, name="steps"
                )
            )
        else:
            layers += [
                _Step(**step, name=f"step{d}") for d in range(self.steps_per_level)
            ]
        if self.level + 1 < self.num_levels:
            kept = 2 * x.shape[-1]  # half of the 4c channels after the squeeze
            later = _Level(
                level=self.level + 1,
                num_levels=self.num_levels,
                steps_per_level=self.steps_per_level,
                prior_hidden_channels=self.prior_hidden_channels,
                split_prior=self.split_prior,
                scan_steps=self.scan_steps,
                scan_unroll=self.scan_unroll,
                name="next_level",
                **step,
            )
            if self.split_prior:
                layers.append(
                    SplitPrior(self.prior_hidden_channels, name="split_prior")
                )
            layers.append(ActOnChannels(later, kept, name="on_kept_half"))
        layers.append(_Unsqueeze())
        chain = []
        for layer in layers:
            bijector = layer(x)
            x = propagate(self, bijector, x)
            chain.append(bijector)
        return distrax.Chain(chain[::-1])


class MultiScaleFlow(nn.Module):
    """L levels of D steps {ActNorm, invertible conv, coupling}, squeezes and splits.

    `__call__(x)` returns the data-to-latent bijector; the latent has x's shape
    (module docstring). Wrap it in `FlowDensity` for `log_prob` and `sample`.

    Attributes:
      num_levels: L, the number of levels (default 3); height and width must be
        divisible by 2**L.
      steps_per_level: D, flow steps per level (default 32).
      conv: invertible convolution, one of `CONVS` (default "1x1", Glow's LU 1x1;
        "cinc" is an LU 1x1 followed by a CInC 3x3, see `_convs`).
      coupling: coupling layer, one of `COUPLINGS` (default "affine").
      hidden_channels: width of the coupling conditioners (default 512).
      prior_hidden_channels: width of the split priors' conditioners; None (the
        default) uses `hidden_channels`.
      inverse_method: the CInC or emerging convolution's solver: "fast"
        (default), "rows", "wavefront" or "scan" (the sequential reference), and
        for CInC also "filter" (`ops.cinc.METHODS`, `ops.emerging.METHODS`);
        ignored by the other convolutions.
      logit_alpha: if set, the flow starts with the logit transform
        y = logit(alpha + (1 - 2 alpha)(x + 1/2)) (`ops.logit`, RealNVP) of the
        pixels in [-1/2, 1/2); its log-det is part of the flow's, so bits/dim is
        still that of the discrete data. None (default): no transform.
      coupling_min_scale: lower bound m of the affine couplings' scale
        s = m + (1 - m) sigmoid(h + 2), which bounds each coupling's inverse
        expansion by 1/m against exploding samples (`ops.affine_coupling`); 0
        (default) is Glow's scale. Ignored by quad coupling.
      learned_base: if True, the chain ends with `DiagonalGaussianBase`, a learned
        mean and scale per latent entry, so the base is N(mu, diag sigma^2) rather
        than N(0, I) (as normflows' and Glow's learned priors); False (default).
      split_prior: if True (default), the factored-out half at each split is
        whitened by a Gaussian conditioned on the kept half, z2 = (x2 - mu(x1)) /
        sigma(x1) (Glow's learned split prior, `ops.split_prior`); if False it goes
        to the base as it is: N(0, I), or, with `learned_base`, a learned
        unconditional diagonal Gaussian per entry (normflows' multi-scale Glow).
      coupling_init: how the coupling conditioners' hidden layers start, one of
        `ops.conv_net.HIDDEN_INITS`: "he_normal" (default) or "uniform",
        PyTorch's default U(+-1 / sqrt(fan_in)) for weights and biases (normflows'
        Glow), which trains the mnist5k recipe to a better likelihood
        (docs/results.md).
      scan_steps: if True (default), each level's D steps run as one `lax.scan`
        over their stacked parameters (`ScannedSteps`): XLA compiles one step
        instead of D (4.7-13.6x faster compiles on the CPU, at the same or better
        step time for three of the four presets; docs/benchmarks.md, "Compile
        time"); False writes the steps out (before 2026-12-04, the only layout).
        The two store parameters in different layouts, which `stack_steps` /
        `unstack_steps` convert; checkpoints of either restore into both. On the
        CPU the scanned steps' convolutions have a reverse-mode derivative only
        (`ops.gemm_conv`): take `jax.jacrev`, or trace forward mode (`jax.jvp`,
        `jax.jacfwd`) inside `ops.gemm_conv.disabled()`.
      scan_unroll: with `scan_steps`, steps per iteration of the loop (default 1).

    Examples:
      >>> import jax, jax.numpy as jnp
      >>> from jinvnet.models import FlowDensity
      >>> flow = MultiScaleFlow(num_levels=2, steps_per_level=1, hidden_channels=8)
      >>> model = FlowDensity(flow)
      >>> x = jax.random.normal(jax.random.PRNGKey(0), (4, 8, 8, 3))
      >>> variables = model.init(jax.random.PRNGKey(1), x)
      >>> model.apply(variables, x).log_prob(x).shape
      (4,)
    """

    num_levels: int = 3
    steps_per_level: int = 32
    conv: str = "1x1"
    coupling: str = "affine"
    hidden_channels: int = 512
    prior_hidden_channels: int | None = None
    inverse_method: str = "fast"
    logit_alpha: float | None = None
    coupling_min_scale: float = 0.0
    learned_base: bool = False
    split_prior: bool = True
    coupling_init: str = "he_normal"
    scan_steps: bool = True
    scan_unroll: int = 1

    @nn.compact
    def __call__(self, x: jax.Array) -> distrax.Bijector:
        """x: a batch of shape (batch, height, width, channels) or its shape struct."""
        _check_config(self, x)
        prior_hidden = self.prior_hidden_channels or self.hidden_channels
        preprocessing = []
        if self.logit_alpha is not None:
            preprocessing.append(Logit(self.logit_alpha, name="logit")(x))
            x = propagate(self, preprocessing[0], x)
        levels = _Level(
            level=0,
            num_levels=self.num_levels,
            steps_per_level=self.steps_per_level,
            conv=self.conv,
            coupling=self.coupling,
            hidden_channels=self.hidden_channels,
            prior_hidden_channels=prior_hidden,
            inverse_method=self.inverse_method,
            coupling_min_scale=self.coupling_min_scale,
            coupling_init=self.coupling_init,
            split_prior=self.split_prior,
            scan_steps=self.scan_steps,
            scan_unroll=self.scan_unroll,
            name="level0",
        )(x)
        chain = [levels, *preprocessing]  # distrax applies the last one first
        if self.learned_base:
            chain.insert(0, DiagonalGaussianBase(name="base")(x))
        return distrax.Chain(chain) if len(chain) > 1 else levels


def _check_config(flow: MultiScaleFlow, x: Any) -> None:
    name = "MultiScaleFlow"
    for what in ("num_levels", "steps_per_level", "hidden_channels"):
        _validation.check_positive_int(getattr(flow, what), name, what)
    if flow.conv not in CONVS:
        raise ValueError(f"{name}: conv must be one of {CONVS}, got {flow.conv!r}")
    if flow.coupling not in COUPLINGS:
        raise ValueError(
            f"{name}: coupling must be one of {COUPLINGS}, got {flow.coupling!r}"
        )
    solvers = _SOLVERS.get(flow.conv, INVERSE_METHODS)
    if flow.inverse_method not in solvers:
        raise ValueError(
            f"{name}: inverse_method must be one of {solvers} for conv "
            f"{flow.conv!r}, got {flow.inverse_method!r}"
        )
    if flow.coupling_init not in HIDDEN_INITS:
        raise ValueError(
            f"{name}: coupling_init must be one of {HIDDEN_INITS}, got "
            f"{flow.coupling_init!r}"
        )
    _validation.check_positive_int(flow.scan_unroll, name, "scan_unroll")
    for what in ("learned_base", "split_prior", "scan_steps"):
        if not isinstance(getattr(flow, what), bool):
            raise ValueError(
                f"{name}: {what} must be True or False, got {getattr(flow, what)!r}"
            )
    if len(x.shape) != 4:
        raise ValueError(
            f"{name}: expected a batch of shape (batch, height, width, channels), got "
            f"shape {tuple(x.shape)}"
        )
    _validation.check_floating(x, name)
    factor = 2**flow.num_levels
    _validation.check_divisible(
        x.shape[1], factor, name, f"height (2**L, L={flow.num_levels})"
    )
    _validation.check_divisible(
        x.shape[2], factor, name, f"width (2**L, L={flow.num_levels})"
    )


def _preset(name: str, conv: str, coupling: str, summary: str):
    """A factory `name(*, num_levels, steps_per_level, hidden_channels, ...)`."""

    def make(
        *,
        num_levels: int = 3,
        steps_per_level: int = 32,
        hidden_channels: int = 512,
        inverse_method: str = "fast",
        logit_alpha: float | None = None,
        coupling_min_scale: float = 0.0,
        learned_base: bool = False,
        split_prior: bool = True,
        coupling_init: str = "he_normal",
        scan_steps: bool = True,
        scan_unroll: int = 1,
    ) -> MultiScaleFlow:
        return MultiScaleFlow(
            num_levels=num_levels,
            steps_per_level=steps_per_level,
            conv=conv,
            coupling=coupling,
            hidden_channels=hidden_channels,
            inverse_method=inverse_method,
            logit_alpha=logit_alpha,
            coupling_min_scale=coupling_min_scale,
            learned_base=learned_base,
            split_prior=split_prior,
            coupling_init=coupling_init,
            scan_steps=scan_steps,
            scan_unroll=scan_unroll,
        )

    make.__name__ = make.__qualname__ = name
    make.__doc__ = f"""{summary}

    Args:
      num_levels: L (default 3).
      steps_per_level: D (default 32).
      hidden_channels: conditioner width (default 512).
      inverse_method: one of `INVERSE_METHODS` ("fast" by default; "scan" is the
        sequential reference) for the CInC and emerging convolutions; ignored by
        the others.
      logit_alpha: if set, a logit transform with this boundary comes first
        (`MultiScaleFlow.logit_alpha`); None (default) for none.
      coupling_min_scale: lower bound of the affine couplings' scale
        (`MultiScaleFlow.coupling_min_scale`; default 0, Glow's scale).
      learned_base: a learned diagonal Gaussian base
        (`MultiScaleFlow.learned_base`; default False, N(0, I)).
      split_prior: Glow's conditional split prior (`MultiScaleFlow.split_prior`;
        default True); False sends the factored-out halves to the base as they are.
      coupling_init: how the coupling conditioners' hidden layers start
        (`MultiScaleFlow.coupling_init`; default "he_normal").
      scan_steps: each level's steps as one loop (`MultiScaleFlow.scan_steps`;
        default True); False writes them out.
      scan_unroll: steps per loop iteration with `scan_steps` (default 1).
    """
    return make


glow = _preset(
    "glow",
    "1x1",
    "affine",
    "Glow: LU 1x1 convolutions, affine couplings (Kingma & Dhariwal 2018).",
)
emerging = _preset(
    "emerging",
    "emerging",
    "affine",
    "Emerging convolutions and affine couplings (Hoogeboom et al. 2019).",
)
cinc = _preset(
    "cinc",
    "cinc",
    "affine",
    "CInC Flow: LU 1x1 + CInC 3x3 convolutions and affine couplings (seed 001).",
)
cinc_quad = _preset(
    "cinc_quad",
    "cinc",
    "quad",
    "CInC Flow (LU 1x1 + CInC 3x3) with quad coupling (seed 001, Sec. 3.2).",
)
