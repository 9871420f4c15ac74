"""Additive coupling (NICE, Dinh et al. 2015; the RevNet block of seed 004).

With x = [x_a, x_b] split along channels (see `coupling`) and t = NN(x_a):

    forward:  y_a = x_a,  y_b = x_b + t(x_a),   log|det dy/dx| = 0
    inverse:  x_a = y_a,  x_b = y_b - t(y_a),   log|det dx/dy| = 0

Volume preserving and globally bi-Lipschitz (seed 004).
"""

import chex
import jax
import jax.numpy as jnp

from jinvnet import _validation
from jinvnet.ops import conv_net, coupling

_NAME = "additive_coupling"

Params = coupling.Params


def init(
    key: chex.PRNGKey,
    channels: int,
    *,
    hidden_channels: int = 64,
    hidden_init: str = "he_normal",
    dtype: jnp.dtype = jnp.float32,
) -> Params:
    """Identity at initialisation (zero output layer).

    `hidden_init` starts the conditioner's hidden layers (`conv_net.HIDDEN_INITS`).
    """
    return coupling.init(
        key,
        channels,
        outputs_per_channel=1,
        hidden_channels=hidden_channels,
        hidden_init=hidden_init,
        dtype=dtype,
    )


def _zero_log_det(x: jax.Array) -> jax.Array:
    return jnp.zeros(_validation.event_batch_shape(x), x.dtype)


def forward(params: Params, x: jax.Array) -> tuple[jax.Array, jax.Array]:
    """y_b = x_b + NN(x_a).

    Args:
      params: `coupling.Params` for c channels.
      x: input of shape (..., height, width, c).

    Returns:
      y of the shape of x and a zero log-det of the batch shape.

    Raises:
      ValueError: wrong rank, non-floating dtype, channel mismatch or c < 2.

    Examples:
      >>> import jax, jax.numpy as jnp
      >>> params = init(jax.random.PRNGKey(0), 4)
      >>> x = jax.random.normal(jax.random.PRNGKey(1), (2, 8, 8, 4))
      >>> y, log_det = forward(params, x)
      >>> x_back, inverse_log_det = inverse(params, y)
      >>> y.shape, log_det.shape
      ((2, 8, 8, 4), (2,))
      >>> bool(jnp.allclose(x_back, x, atol=1e-5))
      True
      >>> bool(jnp.allclose(inverse_log_det, -log_det, atol=1e-4))
      True
    """
    x_a, x_b = coupling.split(params, x, _NAME, 1)
    y_b = x_b + conv_net.apply(params.net, x_a)
    return jnp.concatenate([x_a, y_b], axis=-1), _zero_log_det(x)


def inverse(params: Params, y: jax.Array) -> tuple[jax.Array, jax.Array]:
    """x_b = y_b - NN(y_a); returns (x, 0)."""
    y_a, y_b = coupling.split(params, y, _NAME, 1)
    x_b = y_b - conv_net.apply(params.net, y_a)
    return jnp.concatenate([y_a, x_b], axis=-1), _zero_log_det(y)
