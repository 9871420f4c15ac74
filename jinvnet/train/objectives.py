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

With `dequantization="variational"` (density only) the model is a
`models.VariationalDequantization` and the batch carries the integer "pixels":
bits/dim is then the variational bound (Flow++) at one draw u ~ q(u | k), from the
step's rng in training and from the fixed key `EVAL_KEY_SEED` at evaluation;
"dequantizer_log_q" reports log q(u | k) in nats.

Example (a doctest): a density objective's per-example bits/dim.

    >>> import jax, jax.numpy as jnp
    >>> from jinvnet import models
    >>> model = models.FlowDensity(models.Sequential([models.Squeeze()]))
    >>> x = jnp.zeros((3, 2, 2, 1))                   # N(0, I) at 0
    >>> variables = model.init(jax.random.PRNGKey(0), x)
    >>> out = Objective("density", num_bins=256)(model, variables, {"image": x}, None)
    >>> expected = 0.5 * jnp.log2(2 * jnp.pi) + 8.0    # -log2 N(0; 0, 1) + log2 256
    >>> out["loss"].shape, bool(jnp.allclose(out["bits_per_dim"], expected))
    ((3,), True)
"""

import dataclasses
from typing import Any, Callable

import flax.linen as nn
import jax
import jax.numpy as jnp
import optax

from jinvnet.data.dequantization import bits_per_dim
from jinvnet.models.variational_dequantization import VariationalDequantization

OBJECTIVES = ("density", "classification", "hybrid")
DEQUANTIZATIONS = ("uniform", "variational")
EVAL_KEY_SEED = 0


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
      dequantization: "uniform" (default; noise from the data pipeline) or
        "variational" (a learned q(u | k), density objective only).
    """

    kind: str
    num_bins: int = 256
    hybrid_weight: float = 1.0
    dequantization: str = "uniform"

    def __post_init__(self):
        if self.kind not in OBJECTIVES:
            raise ValueError(
                f"objective must be one of {OBJECTIVES}, got {self.kind!r}"
            )
        if self.dequantization not in DEQUANTIZATIONS:
            raise ValueError(
                f"dequantization must be one of {DEQUANTIZATIONS}, got "
                f"{self.dequantization!r}"
            )
        if self.dequantization == "variational" and self.kind != "density":
            raise ValueError(
                "variational dequantization needs objective 'density', got "
                f"{self.kind!r}"
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

        `rng` (None at evaluation) is passed to the model as its "dropout" stream,
        or draws the variational dequantiser's noise.

        Raises:
          ValueError: if a `VariationalDequantization` model meets a uniform
            objective or the other way round, or the batch lacks "pixels".
        """
        variational = isinstance(model, VariationalDequantization)
        if variational != (self.dequantization == "variational"):
            raise ValueError(
                f"a {type(model).__name__} model needs dequantization "
                f"{'variational' if variational else 'uniform'!r}, got objective "
                f"dequantization {self.dequantization!r}"
            )
        if variational:
            return self._variational(model, variables, batch, rng)
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

    def _variational(
        self,
        model: nn.Module,
        variables: dict,
        batch: dict[str, jax.Array],
        rng: jax.Array | None,
    ) -> dict[str, jax.Array]:
        if "pixels" not in batch:
            raise ValueError(
                "variational dequantization needs the integer pixels in the batch "
                "as 'pixels' (data.BatchIterator(..., pixels=True)); got keys "
                f"{sorted(batch)}"
            )
        key = jax.random.PRNGKey(EVAL_KEY_SEED) if rng is None else rng
        bound = model.apply(
            variables, batch["pixels"], key, num_bins=self.num_bins, method="bound"
        )
        return {
            "loss": bound.bits_per_dim,
            "nll": -bound.log_prob,
            "bits_per_dim": bound.bits_per_dim,
            "dequantizer_log_q": bound.log_q,
        }


LossFn = Callable[
    [nn.Module, dict, dict[str, jax.Array], jax.Array | None], dict[str, jax.Array]
]
