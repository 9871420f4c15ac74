"""Checks a trained flow's samples and inverse: non-finite and unstable draws.

A flow samples x = g(T z), z ~ N(0, I), by running its inverse g = f^{-1}, which can
explode where the forward map contracts strongly (seed 004, Behrmann et al. 2021):
the sample is then inf/NaN, or finite but far from anything f maps back to T z.
`check_samples` draws many samples per temperature and counts both kinds:

    nonfinite: images with any non-finite pixel;
    unstable:  images whose round trip fails, ||f(x) - T z|| / max(||T z||, 1) >
               `error_threshold` (non-finite round trips included);

and `inverse_lipschitz` estimates the local Lipschitz constant of g at f(x) for
test images (`diagnostics.lipschitz_estimates`). The trainer writes these to
summary.json and warns when any count is non-zero.


Example (a doctest): f(x) = 3 x, so samples are z / 3 and the inverse's Lipschitz
constant is 1/3.

    >>> import distrax, jax, jax.numpy as jnp
    >>> triple = distrax.Block(distrax.ScalarAffine(shift=0.0, scale=3.0), ndims=3)
    >>> check = check_samples(triple, (4, 4, 1), jax.random.PRNGKey(0), 0.7,
    ...                       num_draws=64, keep=8)
    >>> isinstance(check, SampleCheck), check.nonfinite, check.unstable
    (True, 0, 0)
    >>> check.images.shape                          # the first `keep` samples
    (8, 4, 4, 1)
    >>> check.warning() is None                     # nothing to report
    True
    >>> x = jax.random.normal(jax.random.PRNGKey(1), (2, 4, 4, 1))
    >>> round(inverse_lipschitz(triple, x, jax.random.PRNGKey(2)), 4)
    0.3333
"""

import dataclasses
import functools
import warnings
from typing import Callable

import distrax
import jax
import jax.numpy as jnp
import numpy as np

from jinvnet.diagnostics.lipschitz import lipschitz_estimates
from jinvnet.diagnostics.reconstruction import event_norm
from jinvnet.train.sample_score import SampleScore, score


@dataclasses.dataclass(frozen=True)
class SampleCheck:
    """What `check_samples` found at one temperature.

    Attributes:
      temperature: T.
      num_draws: number of samples drawn.
      nonfinite: samples with at least one non-finite pixel.
      unstable: samples whose relative round-trip error exceeds the threshold or is
        not finite (includes the non-finite samples).
      max_round_trip_error: the largest finite relative round-trip error (0 when
        none is finite).
      images: the first draws, (keep, h, w, c), for figures.
      score: how a digit classifier labels all draws (`sample_score`), or None.
    """

    temperature: float
    num_draws: int
    nonfinite: int
    unstable: int
    max_round_trip_error: float
    images: np.ndarray
    score: SampleScore | None = None

    def as_dict(self) -> dict[str, float]:
        """Summary fields keyed with the temperature, e.g. "samples_nonfinite_T1.0"."""
        suffix = f"_T{self.temperature}"
        fields = {
            f"samples_drawn{suffix}": self.num_draws,
            f"samples_nonfinite{suffix}": self.nonfinite,
            f"samples_unstable{suffix}": self.unstable,
            f"samples_max_round_trip_error{suffix}": self.max_round_trip_error,
        }
        if self.score is not None:
            fields.update(self.score.as_dict(f"sample_score{suffix}"))
        return fields

    def warning(self) -> str | None:
        """A one-line warning when any sample was non-finite or unstable."""
        if not (self.nonfinite or self.unstable):
            return None
        return (
            f"{self.nonfinite} of {self.num_draws} samples at temperature "
            f"{self.temperature} are non-finite and {self.unstable} fail the round "
            f"trip f(g(z)) = z (exploding inverse; see docs/training.md)"
        )


@functools.lru_cache(maxsize=4)
def _drawer(flow: distrax.Bijector, latent_shape: tuple[int, ...], batch_size: int):
    """One compiled draw per flow and shape, shared by every temperature."""

    @jax.jit
    def draw(key, temperature):
        z = temperature * jax.random.normal(key, (batch_size, *latent_shape))
        x = flow.inverse(z)
        error = event_norm(flow.forward(x) - z) / jnp.maximum(event_norm(z), 1.0)
        finite = jnp.all(jnp.isfinite(x), axis=tuple(range(1, x.ndim)))
        return x, finite, error

    return draw


def check_samples(
    flow: distrax.Bijector,
    latent_shape: tuple[int, ...],
    key: jax.Array,
    temperature: float,
    *,
    num_draws: int = 1024,
    batch_size: int = 256,
    keep: int = 64,
    error_threshold: float = 1e-3,
    classify: Callable[[np.ndarray], np.ndarray] | None = None,
) -> SampleCheck:
    """Draws `num_draws` samples x = g(T z) and counts the non-finite and unstable ones.

    Args:
      flow: the data-to-latent bijector f (g = f^{-1} samples).
      latent_shape: (height, width, channels) of one latent z.
      key: PRNG key; batch i uses `fold_in(key, i)`.
      temperature: T >= 0, the base's standard deviation.
      num_draws: total samples (default 1,024).
      batch_size: samples per compiled call (default 256).
      keep: how many of the first samples to return for figures (default 64).
      error_threshold: largest acceptable relative round-trip error (1e-3).
      classify: maps samples (n, h, w, c) to class probabilities (n, classes),
        e.g. `sample_score.Classifier.sample_probabilities`; every draw is then
        scored (`SampleCheck.score`). None (default): no score.

    Returns:
      A `SampleCheck`.
    """
    if temperature < 0:
        raise ValueError(f"check_samples: temperature must be >= 0, got {temperature}")
    draw = _drawer(flow, tuple(latent_shape), batch_size)

    images, probabilities, nonfinite, unstable, worst = [], [], 0, 0, 0.0
    for i in range(-(-num_draws // batch_size)):
        count = min(batch_size, num_draws - i * batch_size)
        x, finite, error = jax.device_get(
            draw(jax.random.fold_in(key, i), jnp.float32(temperature))
        )
        finite, error = finite[:count], error[:count]
        nonfinite += int(np.sum(~finite))
        unstable += int(np.sum(~(error <= error_threshold)))
        finite_errors = error[np.isfinite(error)]
        if finite_errors.size:
            worst = max(worst, float(finite_errors.max()))
        if sum(len(b) for b in images) < keep:
            images.append(x[:count])
        if classify is not None:
            probabilities.append(classify(x[:count]))
    return SampleCheck(
        temperature=temperature,
        num_draws=num_draws,
        nonfinite=nonfinite,
        unstable=unstable,
        max_round_trip_error=worst,
        images=np.concatenate(images)[:keep],
        score=score(np.concatenate(probabilities)) if classify else None,
    )


def inverse_lipschitz(
    flow: distrax.Bijector, x: jax.Array, key: jax.Array, *, num_iterations: int = 10
) -> float:
    """Max over x of the local Lipschitz estimate of f^{-1} at f(x) (inf if not finite).

    Args:
      flow: the data-to-latent bijector f.
      x: test images (batch, h, w, c).
      key: PRNG key of the power iteration.
      num_iterations: power-iteration steps (default 10).

    Returns:
      The estimate; NaN, with a warning, when f^{-1} has no forward-mode derivative
      (the estimate needs Jacobian-vector products; MintNet's fixed-point inverse
      defines only a reverse-mode rule).
    """
    try:
        _, inverse = jax.jit(
            lambda x, key: lipschitz_estimates(
                flow, x, key, num_iterations=num_iterations
            )
        )(x, key)
    except TypeError as error:
        if "custom_vjp" not in str(error):
            raise
        warnings.warn(
            "inverse Lipschitz estimate skipped (NaN): the flow's inverse has no "
            f"forward-mode derivative ({error})",
            stacklevel=2,
        )
        return float("nan")
    inverse = np.asarray(inverse, np.float64)
    return float(inverse.max()) if np.all(np.isfinite(inverse)) else float("inf")
