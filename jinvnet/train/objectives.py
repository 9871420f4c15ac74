"""Per-example losses and metrics for density, classification and hybrid models.

An objective maps (model, variables, batch, rng) to a dict of per-example arrays of
shape (batch,) with a "loss" entry; the trainer averages them (over all devices
and hosts, since the batch is one global array) and weights them by the batch's
"mask" at evaluation. Model protocols:

- "density": `model.apply(variables, x)` returns a distribution over images
  (e.g. `models.FlowDensity`); loss = bits/dim.
- "classification": `model.apply(variables, x)` returns logits (batch, classes),
  or an output with a `.logits` field; loss = cross-entropy.
- "hybrid": `model.apply(variables, x)` returns (distribution, logits); loss =
  cross-entropy + weight * bits/dim.
"""

import dataclasses
from typing import Any, Callable

import flax.linen as nn
import jax
import jax.numpy as jnp
import optax

from jinvnet.data.dequantization import bits_per_dim

OBJECTIVES = ("density", "classification", "hybrid")


def _density_terms(dist: Any, x: jax.Array, num_bins: int) -> dict[str, jax.Array]:
    log_prob = dist.log_prob(x)
    num_dims = x[0].size
    return {
        "nll": -log_prob,
        "bits_per_dim": bits_per_dim(log_prob, num_dims, num_bins),
    }


def _class_terms(logits: jax.Array, labels: jax.Array) -> dict[str, jax.Array]:
    return {
        "cross_entropy": optax.softmax_cross_entropy_with_integer_labels(
            logits, labels
        ),
        "accuracy": (jnp.argmax(logits, -1) == labels).astype(logits.dtype),
    }


@dataclasses.dataclass(frozen=True)
class Objective:
    """A training objective for a model.

    Attributes:
      kind: "density", "classification" or "hybrid".
      num_bins: pixel levels of the data, for bits/dim.
      hybrid_weight: weight of bits/dim in the hybrid loss (default 1.0).
    """

    kind: str
    num_bins: int = 256
    hybrid_weight: float = 1.0

    def __post_init__(self):
        if self.kind not in OBJECTIVES:
            raise ValueError(
                f"objective must be one of {OBJECTIVES}, got {self.kind!r}"
            )

    @property
    def summary_metric(self) -> str:
        """The metric a run is judged by: bits/dim, or accuracy for classifiers."""
        return "bits_per_dim" if self.kind == "density" else "accuracy"

    def __call__(
        self,
        model: nn.Module,
        variables: dict,
        batch: dict[str, jax.Array],
        rng: jax.Array | None,
    ) -> dict[str, jax.Array]:
        """Per-example "loss" and metrics, each of shape (batch,).

        `rng` (None at evaluation) is passed to the model as its "dropout" stream.
        """
        x = batch["image"]
        out = model.apply(variables, x, rngs=None if rng is None else {"dropout": rng})
        if self.kind == "density":
            terms = _density_terms(out, x, self.num_bins)
            return {"loss": terms["bits_per_dim"], **terms}
        if self.kind == "classification":
            terms = _class_terms(getattr(out, "logits", out), batch["label"])
            return {"loss": terms["cross_entropy"], **terms}
        dist, logits = out
        terms = {
            **_density_terms(dist, x, self.num_bins),
            **_class_terms(logits, batch["label"]),
        }
        loss = terms["cross_entropy"] + self.hybrid_weight * terms["bits_per_dim"]
        return {"loss": loss, **terms}


LossFn = Callable[
    [nn.Module, dict, dict[str, jax.Array], jax.Array | None], dict[str, jax.Array]
]
