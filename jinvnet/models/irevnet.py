"""i-RevNet: a bijective feature extractor and a linear classifier on top (seed 004).

Jacobsen et al. 2018: the image is squeezed (2x2 space to depth), then each stage is
a stack of reversible blocks; stages after the first start with an i-RevNet block
with invertible downsampling. Everything up to the head is one bijector, so no
information is discarded. The classifier averages the features over space and
applies a linear layer.

Example (a doctest):

    >>> import jax, jax.numpy as jnp
    >>> x = jax.random.normal(jax.random.PRNGKey(0), (2, 8, 8, 4))
    >>> model = IRevNetClassifier(10, IRevNet(blocks_per_stage=(1, 1),
    ...                                       hidden_channels=8))
    >>> variables = model.init(jax.random.PRNGKey(1), x)
    >>> out = model.apply(variables, x)            # a ClassifierOutput
    >>> isinstance(out, ClassifierOutput), out.logits.shape, out.log_det.tolist()
    (True, (2, 10), [0.0, 0.0])
    >>> f = model.apply(variables, x, method="feature_bijector")
    >>> bool(jnp.allclose(f.inverse(out.latent), x, atol=1e-5))
    True
"""

import functools
from typing import NamedTuple, Sequence

import distrax
import flax.linen as nn
import jax
import jax.numpy as jnp

from jinvnet import bijectors
from jinvnet.models._initial import initial_value
from jinvnet.ops import irevnet, reversible_stack, revnet

_BLOCKS = {
    "irevnet": (irevnet.block, irevnet.init),
    "additive": (revnet.additive, functools.partial(revnet.init, coupling="additive")),
    "affine": (revnet.affine, functools.partial(revnet.init, coupling="affine")),
}


class IRevNet(nn.Module):
    """The bijective i-RevNet feature extractor; `__call__(x)` returns its bijector.

    Attributes:
      blocks_per_stage: reversible blocks per stage (default (2, 2)); every stage
        after the first begins with a downsampling i-RevNet block, so the latent has
        shape (h / 2^s, w / 2^s, c * 4^s) for s = len(blocks_per_stage).
      hidden_channels: width of the residual functions (default 32).
      block: "irevnet" (default; additive), "additive" or "affine" (RevNet blocks).
      memory_saving: recompute activations in the backward pass (default False);
        that path supports reverse-mode autodiff only.
    """

    blocks_per_stage: Sequence[int] = (2, 2)
    hidden_channels: int = 32
    block: str = "irevnet"
    memory_saving: bool = False

    @nn.compact
    def __call__(self, x: jax.Array) -> distrax.Bijector:
        """x: a batch of shape (batch, height, width, channels) or its shape struct."""
        if self.block not in _BLOCKS:
            raise ValueError(
                f"IRevNet: block must be one of {sorted(_BLOCKS)}, got {self.block!r}"
            )
        block, init_block = _BLOCKS[self.block]
        height, width, channels = x.shape[-3:]
        channels, chain = 4 * channels, [bijectors.Squeeze()]
        for stage, depth in enumerate(self.blocks_per_stage):
            if stage > 0:
                params = self.param(
                    f"downsample_{stage}",
                    initial_value(
                        self,
                        functools.partial(
                            irevnet.init,
                            channels=channels,
                            downsample=True,
                            hidden_channels=self.hidden_channels,
                            dtype=x.dtype,
                        ),
                    ),
                )
                chain.append(bijectors.IRevNetBlock(params, downsample=True))
                channels *= 4
            make = functools.partial(
                init_block,
                channels=channels,
                hidden_channels=self.hidden_channels,
                dtype=x.dtype,
            )
            params = self.param(
                f"stage_{stage}",
                initial_value(
                    self,
                    lambda key, m=make, d=depth: reversible_stack.init(
                        key, d, lambda k: m(k)
                    ),
                ),
            )
            chain.append(
                bijectors.ReversibleStack(
                    params, block=block, memory_saving=self.memory_saving
                )
            )
        return distrax.Chain(chain[::-1])


class ClassifierOutput(NamedTuple):
    """Logits (batch, classes), features z = f(x) and log|det J_f(x)| (batch,)."""

    logits: jax.Array
    latent: jax.Array
    log_det: jax.Array


class IRevNetClassifier(nn.Module):
    """A linear classifier on the spatially averaged features of an `IRevNet`.

    Usage:
        v = model.init(key, x)
        out = model.apply(v, x)                  # ClassifierOutput
        f = model.apply(v, x, method="feature_bijector")  # the bijector

    Attributes:
      num_classes: number of classes.
      features: the `IRevNet` (default configuration if None).
    """

    num_classes: int
    features: IRevNet | None = None

    def setup(self):
        """Builds the feature extractor and the linear head."""
        self.extractor = self.features if self.features is not None else IRevNet()
        self.head = nn.Dense(self.num_classes)

    def feature_bijector(self, x: jax.Array) -> distrax.Bijector:
        """The bijective feature extractor f (data to features)."""
        return self.extractor(x)

    def __call__(self, x: jax.Array) -> ClassifierOutput:
        """x: images (batch, height, width, channels)."""
        latent, log_det = self.extractor(x).forward_and_log_det(x)
        logits = self.head(jnp.mean(latent, axis=(-3, -2)))
        return ClassifierOutput(logits, latent, log_det)
