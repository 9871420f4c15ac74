"""MintNet (Song, Meng & Ermon 2019, seed 002): paired Mint layers and squeezes.

`mintnet(...)` is the data-to-latent flow (use it in `models.FlowDensity`);
`MintNetClassifier` puts an ELU, global mean pooling and a dense layer on top of
the same invertible body. `PRESETS` holds the paper's sizes: for densities,
MNIST 20 paired blocks with K = 45 groups, CIFAR-10 16 blocks with K = 85 and
ImageNet 32x32 21 blocks with K = 85; for classification, 19 blocks with K = 1
on inputs zero-padded to 16 channels; always 3x3 kernels and 2 squeezes placed
after every num_blocks // 3 blocks (numbers from the authors' configurations).

Example (a doctest):

    >>> import jax, jax.numpy as jnp
    >>> x = jax.random.uniform(jax.random.PRNGKey(0), (2, 8, 8, 1)) - 0.5
    >>> layer = MintLayer(num_groups=2, upper=True)
    >>> bijector = layer.apply(layer.init(jax.random.PRNGKey(1), x), x)
    >>> bool(jnp.allclose(bijector.inverse(bijector.forward(x)), x, atol=1e-5))
    True
    >>> block = mint_block(num_groups=2, alpha=0.9)   # lower, then upper
    >>> bijector = block.apply(block.init(jax.random.PRNGKey(2), x), x)
    >>> bool(jnp.allclose(bijector.inverse(bijector.forward(x)), x, atol=1e-5))
    True
    >>> flow = mintnet_preset("smoke")               # PRESETS["smoke"]
    >>> variables = flow.init(jax.random.PRNGKey(3), x)
    >>> classifier = MintNetClassifier(num_blocks=2)
    >>> classifier.apply(classifier.init(jax.random.PRNGKey(4), x), x).shape
    (2, 10)
"""

import functools
from typing import Optional

import distrax
import flax.linen as nn
import jax
import jax.numpy as jnp

from jinvnet import bijectors
from jinvnet.models._initial import initial_value
from jinvnet.models.reshaping import Squeeze
from jinvnet.models.sequential import Sequential
from jinvnet.ops import mint

PRESETS: dict[str, dict] = {
    "mnist": {"num_blocks": 20, "num_groups": 45, "num_squeezes": 2},
    "cifar10": {"num_blocks": 16, "num_groups": 85, "num_squeezes": 2},
    "imagenet32": {"num_blocks": 21, "num_groups": 85, "num_squeezes": 2},
    "classifier": {"num_blocks": 19, "num_groups": 1, "num_squeezes": 2},
    "smoke": {"num_blocks": 3, "num_groups": 2, "num_squeezes": 1},
}


class MintLayer(nn.Module):
    """Declares one Mint layer's parameters and returns `bijectors.MintLayer`.

    t is per pixel and channel, as in the paper, so the layer is tied to the
    height and width it was initialised with.

    Attributes:
      num_groups: K, hidden groups of C channels each (default 1).
      kernel_size: odd kernel size (default 3).
      upper: upper instead of lower triangular masks (default False).
      init_scale: kernel scale at initialisation (default 0.1, see `mint.init`).
      alpha, tol, max_iters, num_steps, on_failure, anderson_memory: the
        inverse's options (`bijectors.MintLayer`); an unconverged example inverts
        to NaN by default.
    """

    num_groups: int = 1
    kernel_size: int = 3
    upper: bool = False
    init_scale: float = 0.1
    alpha: float = 1.0
    tol: Optional[float] = None
    max_iters: int = 100
    num_steps: Optional[int] = None
    on_failure: str = "nan"
    anderson_memory: int = 1

    @nn.compact
    def __call__(self, x: jax.Array) -> distrax.Bijector:
        """x: a batch of shape (batch, height, width, channels) or its shape struct."""
        make = functools.partial(
            mint.init,
            channels=x.shape[-1],
            num_groups=self.num_groups,
            kernel_size=self.kernel_size,
            spatial_shape=tuple(x.shape[-3:-1]),
            init_scale=self.init_scale,
            dtype=x.dtype,
        )
        start = initial_value(self, make)
        params = mint.Params(
            *(
                self.param(name, lambda key, n=name: getattr(start(key), n))
                for name in mint.Params._fields
            )
        )
        return bijectors.MintLayer(
            params,
            upper=self.upper,
            alpha=self.alpha,
            tol=self.tol,
            max_iters=self.max_iters,
            num_steps=self.num_steps,
            on_failure=self.on_failure,
            anderson_memory=self.anderson_memory,
        )


def mint_block(**layer_options) -> Sequential:
    """A paired block: a lower then an upper triangular `MintLayer` (same options)."""
    return Sequential(
        [
            MintLayer(upper=False, **layer_options),
            MintLayer(upper=True, **layer_options),
        ]
    )


def mintnet(
    *,
    num_blocks: int = 3,
    num_groups: int = 2,
    num_squeezes: int = 1,
    kernel_size: int = 3,
    init_scale: float = 0.1,
    alpha: float = 1.0,
    tol: Optional[float] = None,
    max_iters: int = 100,
    num_steps: Optional[int] = None,
    on_failure: str = "nan",
    anderson_memory: int = 1,
) -> Sequential:
    """The MintNet flow: paired Mint blocks with squeezes in between.

    A squeeze comes before block number g, 2g, ..., num_squeezes * g, where
    g = num_blocks // (num_squeezes + 1). Paper sizes: `mintnet(**PRESETS["cifar10"])`.

    Args:
      num_blocks: paired (lower, upper) blocks (default 3).
      num_groups: K per layer (default 2).
      num_squeezes: 2x2 squeezes, each halving height and width (default 1).
      kernel_size: odd kernel size (default 3).
      init_scale: kernel scale at initialisation (default 0.1).
      alpha: fixed-point step size of every layer's inverse (default 1.0).
      tol: relative residual of the tolerance loop; None (default) by dtype.
      max_iters: most steps of each layer's tolerance loop (default 100).
      num_steps: if set, every layer inverts with exactly this many steps.
      on_failure: what an example that does not converge in some layer's inverse
        gives: "nan" (default) or "raise" (NaN and a `checkify` check, see
        `ops.mint.converged_or_nan`).
      anderson_memory: 1 (default) inverts every layer by Algorithm 1; m >= 2 by
        its Anderson acceleration with m stored iterates (`ops.mint.solve`).

    Returns:
      A `Sequential` module whose `__call__(x)` returns the data-to-latent bijector.

    Raises:
      ValueError: num_blocks < 1, num_squeezes < 0 or more squeezes than blocks.

    Examples:
      >>> import jax, jax.numpy as jnp
      >>> from jinvnet import models
      >>> x = jax.random.uniform(jax.random.PRNGKey(0), (4, 8, 8, 1))
      >>> model = models.FlowDensity(mintnet(num_blocks=2, num_groups=2))
      >>> variables = model.init(jax.random.PRNGKey(1), x)
      >>> model.apply(variables, x).log_prob(x).shape
      (4,)
    """
    if num_blocks < 1 or num_squeezes < 0 or num_squeezes > num_blocks - 1:
        raise ValueError(
            f"mintnet: need num_blocks >= 1 and 0 <= num_squeezes < num_blocks, got "
            f"num_blocks={num_blocks}, num_squeezes={num_squeezes}"
        )
    gap = num_blocks // (num_squeezes + 1)
    anchors = {gap * (i + 1) for i in range(num_squeezes)}
    options = dict(
        num_groups=num_groups,
        kernel_size=kernel_size,
        init_scale=init_scale,
        alpha=alpha,
        tol=tol,
        max_iters=max_iters,
        num_steps=num_steps,
        on_failure=on_failure,
        anderson_memory=anderson_memory,
    )
    layers = []
    for block in range(num_blocks):
        if block in anchors:
            layers.append(Squeeze())
        layers.append(mint_block(**options))
    return Sequential(layers)


def mintnet_preset(name: str, **overrides) -> Sequential:
    """`mintnet(**PRESETS[name], **overrides)`: mnist, cifar10, imagenet32 or smoke.

    Raises:
      ValueError: unknown preset name.
    """
    if name not in PRESETS:
        raise ValueError(f"mintnet: unknown preset {name!r}; known: {sorted(PRESETS)}")
    return mintnet(**{**PRESETS[name], **overrides})


class MintNetClassifier(nn.Module):
    """MintNet classifier: zero-pad channels, invertible body, ELU, mean pool, dense.

    The paper's classifier also puts batch normalisation before every Mint layer;
    this one leaves it out, so the body stays one invertible bijector.

    Attributes:
      num_classes: number of classes (default 10).
      num_blocks: paired blocks (default 3; the paper uses 19).
      num_groups: K per layer (default 1, as in the paper).
      num_squeezes: squeezes (default 1; the paper uses 2).
      pad_channels: channels the input is zero-padded to (default 16).
      init_scale: kernel scale at initialisation (default 0.1).
    """

    num_classes: int = 10
    num_blocks: int = 3
    num_groups: int = 1
    num_squeezes: int = 1
    pad_channels: int = 16
    init_scale: float = 0.1

    @nn.compact
    def __call__(self, x: jax.Array) -> jax.Array:
        """Logits of shape (batch, num_classes) for images (batch, height, width, c)."""
        channels = x.shape[-1]
        if channels > self.pad_channels:
            raise ValueError(
                f"MintNetClassifier: input has {channels} channels, more than "
                f"pad_channels={self.pad_channels}"
            )
        pad = [(0, 0)] * (x.ndim - 1) + [(0, self.pad_channels - channels)]
        h = jnp.pad(x, pad)
        body = mintnet(
            num_blocks=self.num_blocks,
            num_groups=self.num_groups,
            num_squeezes=self.num_squeezes,
            init_scale=self.init_scale,
        )(h)
        features = jax.nn.elu(body.forward(h)).mean(axis=(-3, -2))
        return nn.Dense(self.num_classes)(features)
