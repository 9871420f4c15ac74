"""i-ConvNet (seed 000, Finzi et al. 2019): the invertible convnet classifier and flow.

`IConvNet` is a plain convnet classifier with a switch for every rung of the seed's
"path to invertibility" table (`PATH_TO_INVERTIBILITY`): zero or circular padding,
ReLU or SneakyReLU, MaxPool2d or an invertible downsampling (checkerboard, i-RevNet's
space to depth, iAvgPool2d). Layout, for an input of c channels and S stages of L
layers:

    for stage s = 0 .. S-1:   downsample 2x2 (to c_s = c * 4^(s+1) channels)
                              L x [conv k x k (c_s -> c_s), ActNorm, activation]
    head:                     global average pool, linear layer to the logits

With MaxPool2d the first convolution of each stage maps the pooled c_{s-1} channels
to c_s (c_{-1} = c), so every rung has the same widths. With circular padding,
SneakyReLU and an invertible downsampling the feature extractor is invertible and
is built as one jinvnet bijector (`distrax.Chain` of `FFTConv`, `ActNorm`,
`SneakyReLU` and the downsamplings; `IConvNet.feature_extractor`); the head is the
only non-invertible part.

`iconvnet_flow` is the seed's fully convolutional normalizing flow:

    log|det Df| = sum_i (log|det Conv_W^(i)| + sum_{j,h,w} log sigma'(a^(i)_{j,h,w}))

(plus the ActNorm terms), a single-scale stack of FFT convolutions, ActNorms and
SneakyReLUs between invertible downsamplings, usable in `models.FlowDensity`.

Example (a doctest): the last rung's classifier has an invertible feature
extractor; the flow is a density.

    >>> import jax, jax.numpy as jnp
    >>> from jinvnet.models import FlowDensity
    >>> rung = PATH_TO_INVERTIBILITY[-1]           # a Rung: "MaxPool2d -> iAvgPool2d"
    >>> rung.downsampling, rung.paper_accuracy
    ('iavgpool', 92.6)
    >>> x = jax.random.normal(jax.random.PRNGKey(0), (2, 16, 16, 3))
    >>> net = IConvNet(num_stages=2, layers_per_stage=1, padding=rung.padding,
    ...                activation=rung.activation, downsampling=rung.downsampling)
    >>> variables = net.init(jax.random.PRNGKey(1), x)
    >>> net.apply(variables, x).shape, net.invertible
    ((2, 10), True)
    >>> features = invertible_features(num_stages=2, layers_per_stage=1)
    >>> f = features.apply(features.init(jax.random.PRNGKey(2), x), x)
    >>> error = jnp.abs(f.inverse(f.forward(x)) - x).max()   # float32 rounding
    >>> bool(error < 1e-3 * jnp.abs(x).max())
    True
    >>> model = FlowDensity(iconvnet_flow(num_levels=2, steps_per_level=1))
    >>> model.apply(model.init(jax.random.PRNGKey(3), x), x).log_prob(x).shape
    (2,)
"""

from typing import Callable, NamedTuple

import distrax
import flax.linen as nn
import jax
import jax.numpy as jnp

from jinvnet.models.actnorm import ActNorm
from jinvnet.models.downsampling import Checkerboard, IAvgPool2d
from jinvnet.models.fft_conv import FFTConv
from jinvnet.models.reshaping import SneakyReLU, Squeeze
from jinvnet.models.sequential import Sequential
from jinvnet.ops import fft_conv, sneaky_relu

PADDINGS = ("zero", "circular")
ACTIVATIONS = ("relu", "sneaky_relu")
DOWNSAMPLINGS = ("maxpool", "checkerboard", "irevnet", "iavgpool")
_INVERTIBLE_DOWNSAMPLINGS = {
    "checkerboard": Checkerboard,
    "irevnet": Squeeze,
    "iavgpool": IAvgPool2d,
}


class Rung(NamedTuple):
    """One row of seed 000's Table 1.

    Attributes:
      change: the row label, as in the seed.
      padding: "zero" or "circular".
      activation: "relu" or "sneaky_relu".
      downsampling: one of `DOWNSAMPLINGS`.
      reference: index of the row its accuracy difference is taken against.
      paper_accuracy: the seed's CIFAR-10 test accuracy (%).
    """

    change: str
    padding: str
    activation: str
    downsampling: str
    reference: int
    paper_accuracy: float


PATH_TO_INVERTIBILITY = (
    Rung("Base Convnet", "zero", "relu", "maxpool", 0, 94.6),
    Rung("Zero Padding -> Circular Padding", "circular", "relu", "maxpool", 0, 94.6),
    Rung("ReLU -> SneakyReLU", "circular", "sneaky_relu", "maxpool", 1, 93.0),
    Rung(
        "MaxPool2d -> Checkerboard DS",
        "circular",
        "sneaky_relu",
        "checkerboard",
        2,
        92.0,
    ),
    Rung("MaxPool2d -> iINN", "circular", "sneaky_relu", "irevnet", 2, 92.5),
    Rung("MaxPool2d -> iAvgPool2d", "circular", "sneaky_relu", "iavgpool", 2, 92.6),
)


def _check_choice(value: str, choices: tuple[str, ...], what: str) -> None:
    if value not in choices:
        raise ValueError(f"IConvNet: {what} must be one of {choices}, got {value!r}")


def _conv(x: jax.Array, kernel: jax.Array, padding: str) -> jax.Array:
    """K x k cross-correlation with zero ("SAME") or circular padding."""
    k = kernel.shape[0]
    pads = ((k - 1) // 2, k // 2)
    if padding == "circular":
        x = jnp.pad(x, ((0, 0), pads, pads, (0, 0)), mode="wrap")
        pads = (0, 0)
    return jax.lax.conv_general_dilated(
        x, kernel, (1, 1), (pads, pads), dimension_numbers=("NHWC", "HWIO", "NHWC")
    )


class _ConvFeatures(nn.Module):
    """The feature extractor of any rung, computed directly (not as a bijector)."""

    num_stages: int
    layers_per_stage: int
    padding: str
    activation: str
    downsampling: str
    kernel_size: int
    slope: float

    @nn.compact
    def __call__(self, x: jax.Array) -> jax.Array:
        in_channels = x.shape[-1]
        h = x
        for stage in range(self.num_stages):
            if self.downsampling == "maxpool":
                h = nn.max_pool(h, (2, 2), strides=(2, 2))
            else:
                h = _INVERTIBLE_DOWNSAMPLINGS[self.downsampling]()(h).forward(h)
            width = in_channels * 4 ** (stage + 1)
            for layer in range(self.layers_per_stage):
                k = self.kernel_size
                kernel = self.param(
                    f"conv_{stage}_{layer}",
                    nn.initializers.he_normal(),
                    (k, k, h.shape[-1], width),
                    x.dtype,
                )
                h = _conv(h, kernel, self.padding)
                h = ActNorm()(h).forward(h)
                if self.activation == "relu":
                    h = jax.nn.relu(h)
                else:
                    params = sneaky_relu.init(self.slope, h.dtype)
                    h, _ = sneaky_relu.forward(params, h)
        return h


def _stages(
    num_stages: int,
    steps_per_stage: int,
    downsampling: str,
    step: Callable[[], list[nn.Module]],
) -> list[nn.Module]:
    """[downsampling, step() x steps_per_stage] x num_stages, as one flat list.

    Raises:
      ValueError: for an unknown downsampling name.
    """
    _check_choice(downsampling, tuple(_INVERTIBLE_DOWNSAMPLINGS), "downsampling")
    layers = []
    for _ in range(num_stages):
        layers.append(_INVERTIBLE_DOWNSAMPLINGS[downsampling]())
        for _ in range(steps_per_stage):
            layers += step()
    return layers


def invertible_features(
    *,
    num_stages: int = 3,
    layers_per_stage: int = 3,
    downsampling: str = "iavgpool",
    kernel_size: int = 3,
    slope: float = 0.1,
    init_scale: float = 0.1,
    log_det_method: str = fft_conv.DEFAULT_LOG_DET_METHOD,
) -> Sequential:
    """The fully invertible i-ConvNet feature extractor as one bijector module.

    Args:
      num_stages: S, the number of downsampling stages (default 3).
      layers_per_stage: L, convolutions per stage (default 3).
      downsampling: "checkerboard", "irevnet" or "iavgpool" (default).
      kernel_size: k of the FFT convolutions (default 3).
      slope: SneakyReLU's negative slope (default 0.1).
      init_scale: initial tap noise of the FFT convolutions (default 0.1).
      log_det_method: FFT log-det path (default "rfft").

    Returns:
      A `Sequential` whose `__call__(x)` returns the data-to-features bijector.
    """

    def step() -> list[nn.Module]:
        conv = FFTConv(
            kernel_size, init_scale=init_scale, log_det_method=log_det_method
        )
        return [conv, ActNorm(), SneakyReLU(slope)]

    return Sequential(_stages(num_stages, layers_per_stage, downsampling, step))


class IConvNet(nn.Module):
    """The i-ConvNet classifier: one switch per rung of the path to invertibility.

    Attributes:
      num_classes: number of logits (default 10).
      num_stages: S, downsampling stages (default 3; the input size must be
        divisible by 2^S).
      layers_per_stage: L, convolutions per stage (default 3, so 9 conv layers).
      padding: "zero" or "circular" (default).
      activation: "relu" or "sneaky_relu" (default).
      downsampling: "maxpool", "checkerboard", "irevnet" or "iavgpool" (default).
      kernel_size: k (default 3).
      slope: SneakyReLU's negative slope (default 0.1).
    """

    num_classes: int = 10
    num_stages: int = 3
    layers_per_stage: int = 3
    padding: str = "circular"
    activation: str = "sneaky_relu"
    downsampling: str = "iavgpool"
    kernel_size: int = 3
    slope: float = 0.1

    @property
    def invertible(self) -> bool:
        """Whether the feature extractor is a bijector (the last three rungs)."""
        return (
            self.padding == "circular"
            and self.activation == "sneaky_relu"
            and self.downsampling != "maxpool"
        )

    def setup(self):
        """Validates the switches and declares the features and the head."""
        _check_choice(self.padding, PADDINGS, "padding")
        _check_choice(self.activation, ACTIVATIONS, "activation")
        _check_choice(self.downsampling, DOWNSAMPLINGS, "downsampling")
        if self.invertible:
            self.features = invertible_features(
                num_stages=self.num_stages,
                layers_per_stage=self.layers_per_stage,
                downsampling=self.downsampling,
                kernel_size=self.kernel_size,
                slope=self.slope,
            )
        else:
            self.features = _ConvFeatures(
                num_stages=self.num_stages,
                layers_per_stage=self.layers_per_stage,
                padding=self.padding,
                activation=self.activation,
                downsampling=self.downsampling,
                kernel_size=self.kernel_size,
                slope=self.slope,
            )
        self.head = nn.Dense(self.num_classes)

    def feature_extractor(self, x: jax.Array) -> distrax.Bijector:
        """The invertible feature extractor as a bijector (invertible rungs only).

        Use as `model.apply(variables, x, method=IConvNet.feature_extractor)`.

        Raises:
          ValueError: if the configuration is not fully invertible.
        """
        if not self.invertible:
            raise ValueError(
                "IConvNet: the feature extractor is a bijector only with "
                "padding='circular', activation='sneaky_relu' and an invertible "
                f"downsampling; got {self.padding!r}, {self.activation!r}, "
                f"{self.downsampling!r}"
            )
        return self.features(x)

    def __call__(self, x: jax.Array) -> jax.Array:
        """Logits of shape (batch, num_classes) for images (batch, height, width, c)."""
        if self.invertible:
            h = self.features(x).forward(x)
        else:
            h = self.features(x)
        return self.head(jnp.mean(h, axis=(-3, -2)))


def iconvnet_flow(
    *,
    num_levels: int = 3,
    steps_per_level: int = 4,
    downsampling: str = "iavgpool",
    kernel_size: int = 3,
    slope: float = 0.5,
    init_scale: float = 0.01,
    log_det_method: str = fft_conv.DEFAULT_LOG_DET_METHOD,
) -> Sequential:
    """The fully convolutional normalizing flow of seed 000 (data to latent).

    Each level is an invertible downsampling followed by `steps_per_level` steps of
    [ActNorm, FFTConv, SneakyReLU]; a final [ActNorm, FFTConv] keeps the last layer
    linear. Single scale: the latent has shape (h / 2^levels, w / 2^levels,
    c * 4^levels). Use it as `models.FlowDensity(iconvnet_flow())`.

    Args:
      num_levels: number of downsamplings (default 3).
      steps_per_level: steps after each downsampling (default 4).
      downsampling: "checkerboard", "irevnet" or "iavgpool" (default).
      kernel_size: k of the FFT convolutions (default 3).
      slope: SneakyReLU's negative slope (default 0.5).
      init_scale: initial tap noise of the FFT convolutions (default 0.01).
      log_det_method: FFT log-det path (default "rfft").

    Returns:
      A `Sequential` whose `__call__(x)` returns the data-to-latent bijector.
    """

    def conv() -> nn.Module:
        return FFTConv(
            kernel_size, init_scale=init_scale, log_det_method=log_det_method
        )

    def step() -> list[nn.Module]:
        return [ActNorm(), conv(), SneakyReLU(slope)]

    layers = _stages(num_levels, steps_per_level, downsampling, step)
    return Sequential(layers + [ActNorm(), conv()])
