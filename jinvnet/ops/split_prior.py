"""The multi-scale split as an invertible step: a learned conditional prior (Glow).

Glow (Kingma & Dhariwal 2018; the "split" module of seed 001, Fig. 3) factors out
half the channels at the end of each level and models them with a Gaussian whose
mean and scale depend on the kept half. Written as a bijector (`DESIGN.md`, "The
whole flow is one bijector"), the factored-out half is whitened by that conditional
Gaussian, so a standard normal on the output is exactly the hierarchical prior.

With x = [z1, z2] split along channels (z1 = x[..., :c // 2] is kept and goes on to
the next level, z2 = x[..., c // 2:] is factored out; see `coupling`), and
[mu, log_sigma] = NN(z1) (a `conv_net` whose output layer starts at zero, so the step
is the identity at initialisation):

    forward:  y1 = z1,  y2 = (z2 - mu) * exp(-log_sigma),
              log|det dy/dx| = -sum log_sigma
    inverse:  z1 = y1,  z2 = y2 * exp(log_sigma) + mu,
              log|det dx/dy| = sum log_sigma

Params: `coupling.Params` (the conditioner network).

Example (at initialisation the prior is N(0, 1), so y2 = z2):

    >>> import jax, jax.numpy as jnp
    >>> params = init(jax.random.PRNGKey(0), 4, hidden_channels=8)
    >>> x = jax.random.normal(jax.random.PRNGKey(1), (2, 4, 4, 4))
    >>> mu, log_sigma = mean_and_log_scale(params, x[..., :2])
    >>> float(jnp.abs(mu).max()), float(jnp.abs(log_sigma).max())
    (0.0, 0.0)
    >>> y, log_det = forward(params, x)
    >>> bool(jnp.allclose(inverse(params, y)[0], x)), log_det.shape
    (True, (2,))
"""

import chex
import jax
import jax.numpy as jnp

from jinvnet.ops import coupling

_NAME = "split_prior"

Params = coupling.Params


def init(
    key: chex.PRNGKey,
    channels: int,
    *,
    hidden_channels: int = 64,
    dtype: jnp.dtype = jnp.float32,
) -> Params:
    """Conditioner from c // 2 kept channels to [mu, log_sigma]; zero output layer.

    Args:
      key: PRNG key for the hidden layers.
      channels: c, the channels of the whole input (kept + factored out), c >= 2.
      hidden_channels: width of the conditioner (default 64).
      dtype: parameter dtype (default float32).

    Returns:
      `Params` for which `forward` is the identity.

    Raises:
      ValueError: if c < 2 or a width is not a positive integer.

    Examples:
      >>> import jax, jax.numpy as jnp
      >>> params = init(jax.random.PRNGKey(0), 4, hidden_channels=8)
      >>> x = jnp.ones((2, 4, 4, 4))
      >>> y, log_det = forward(params, x)
      >>> bool((y == x).all()), log_det.shape
      (True, (2,))
    """
    return coupling.init(
        key,
        channels,
        outputs_per_channel=2,
        hidden_channels=hidden_channels,
        dtype=dtype,
    )


def mean_and_log_scale(params: Params, z1: jax.Array) -> tuple[jax.Array, jax.Array]:
    """The conditional prior's (mu, log_sigma) for the factored-out half given z1."""
    return coupling.conditioner_halves(params.net, z1)


def forward(params: Params, x: jax.Array) -> tuple[jax.Array, jax.Array]:
    """y2 = (z2 - mu(z1)) * exp(-log_sigma(z1)), z1 passed through.

    Args:
      params: `Params` for c channels.
      x: input of shape (..., height, width, c).

    Returns:
      y of the shape of x, and log|det dy/dx| of the batch shape.

    Raises:
      ValueError: wrong rank, non-floating dtype, channel mismatch or c < 2.
    """
    z1, z2 = coupling.split(params, x, _NAME, 2)
    mu, log_sigma = mean_and_log_scale(params, z1)
    y2 = (z2 - mu) * jnp.exp(-log_sigma)
    return jnp.concatenate([z1, y2], axis=-1), -coupling.sum_event(log_sigma)


def inverse(params: Params, y: jax.Array) -> tuple[jax.Array, jax.Array]:
    """z2 = y2 * exp(log_sigma(z1)) + mu(z1); returns (x, log|det dx/dy|)."""
    z1, y2 = coupling.split(params, y, _NAME, 2)
    mu, log_sigma = mean_and_log_scale(params, z1)
    z2 = y2 * jnp.exp(log_sigma) + mu
    return jnp.concatenate([z1, z2], axis=-1), coupling.sum_event(log_sigma)
