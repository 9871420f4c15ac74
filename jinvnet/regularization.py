"""Stabilising losses for invertible networks (Behrmann et al. 2021; seed 004).

- `finite_difference_penalty`: the bi-directional finite-difference penalty. With
  unit random directions v (data space) and u (latent space), z = f(x):

      R_f(x)      = ||f(x + eps v) - f(x)||^2 / eps^2          ~ ||J_f(x) v||^2
      R_{f^-1}(x) = ||f^{-1}(z + eps u) - x||^2 / eps^2        ~ ||J_f(x)^{-1} u||^2

  penalising the local Lipschitz constants of f and f^{-1}. In expectation over the
  directions the sum is (||J||_F^2 + ||J^{-1}||_F^2) / d >= 2 (the value of an
  isometry). The authors' code divides by eps instead of eps^2, which only rescales
  the weight.
- `flow_nll_per_dim` and `hybrid_classifier_loss`: the normalizing-flow objective
  -log p(x) = -log N(f(x); 0, I) - log|det J_f(x)| (eq. 6 of Behrmann et al.), which
  discourages small singular values (eq. 7), added with a small weight to a
  classifier's cross-entropy as a stabiliser.
"""

import chex
import distrax
import jax
import jax.numpy as jnp
import optax

from jinvnet import _validation
from jinvnet.diagnostics.reconstruction import event_norm


def _unit_direction(key: chex.PRNGKey, shape, dtype) -> jax.Array:
    v = jax.random.normal(key, shape, dtype)
    return v / event_norm(v)[..., None, None, None]


def finite_difference_penalty(
    bijector: distrax.Bijector,
    x: jax.Array,
    key: chex.PRNGKey,
    *,
    epsilon: float = 0.1,
    forward_weight: float = 1.0,
    inverse_weight: float = 1.0,
) -> jax.Array:
    """Bi-directional finite-difference penalty, averaged over the batch.

    Args:
      bijector: the data-to-latent bijector f.
      x: data of shape (batch, height, width, channels).
      key: PRNG key for the directions.
      epsilon: finite-difference step (default 0.1, as in the paper's code).
      forward_weight: weight of R_f (default 1).
      inverse_weight: weight of R_{f^-1} (default 1).

    Returns:
      The scalar forward_weight * mean R_f + inverse_weight * mean R_{f^-1}.

    Examples:
      >>> import jax, jax.numpy as jnp
      >>> from jinvnet import bijectors
      >>> x = jnp.ones((2, 4, 4, 1))
      >>> key = jax.random.PRNGKey(0)
      >>> penalty = finite_difference_penalty(bijectors.Squeeze(), x, key)
      >>> round(float(penalty), 4)  # an isometry: 1 forward + 1 inverse
      2.0
    """
    _validation.check_image(x, "finite_difference_penalty")
    if not epsilon > 0:
        raise ValueError(
            f"finite_difference_penalty: epsilon must be positive, got {epsilon}"
        )
    k_forward, k_inverse = jax.random.split(key)
    z = bijector.forward(x)
    v = _unit_direction(k_forward, x.shape, x.dtype)
    u = _unit_direction(k_inverse, z.shape, z.dtype)
    forward = event_norm(bijector.forward(x + epsilon * v) - z) ** 2 / epsilon**2
    inverse = event_norm(bijector.inverse(z + epsilon * u) - x) ** 2 / epsilon**2
    return forward_weight * jnp.mean(forward) + inverse_weight * jnp.mean(inverse)


def flow_nll_per_dim(latent: jax.Array, log_det: jax.Array) -> jax.Array:
    """-log p(x) / d in nats, from z = f(x) and log|det J_f(x)|, per example.

    Args:
      latent: z of shape (batch, ...event).
      log_det: log|det J_f(x)| of shape (batch,).

    Returns:
      Shape (batch,): -(log N(z; 0, I) + log_det) / d with d = z[0].size.
    """
    event_axes = tuple(range(1, latent.ndim))
    num_dims = latent[0].size
    log_normal = -0.5 * jnp.sum(latent**2, axis=event_axes) - 0.5 * num_dims * jnp.log(
        2 * jnp.pi
    ).astype(latent.dtype)
    return -(log_normal + log_det) / num_dims


def hybrid_classifier_loss(
    logits: jax.Array,
    labels: jax.Array,
    latent: jax.Array,
    log_det: jax.Array,
    *,
    nf_weight: float,
) -> jax.Array:
    """Cross-entropy plus nf_weight times the flow NLL per dimension, batch mean.

    Behrmann et al. 2021 (seed 004) add the normalizing-flow objective with a small
    weight (e.g. 1e-8 in their 2-D example) to stabilise the inverse of an INN
    classifier; `nf_weight = 0` gives the plain classifier.

    Args:
      logits: (batch, classes).
      labels: integer labels (batch,).
      latent: the invertible feature map z = f(x), (batch, ...).
      log_det: log|det J_f(x)|, (batch,).
      nf_weight: weight of the flow term (non-negative).

    Returns:
      The scalar loss.
    """
    if nf_weight < 0:
        raise ValueError(
            f"hybrid_classifier_loss: nf_weight must be >= 0, got {nf_weight}"
        )
    cross_entropy = optax.softmax_cross_entropy_with_integer_labels(logits, labels)
    return jnp.mean(cross_entropy) + nf_weight * jnp.mean(
        flow_nll_per_dim(latent, log_det)
    )
