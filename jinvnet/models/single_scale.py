"""Glow's flow step and a small single-scale Glow (Kingma & Dhariwal 2018).

The multi-scale Glow of the paper (L levels of squeeze, K steps, split) is
`models.multiscale.glow`; this module holds its step, `glow_step`, and
`single_scale_glow`, K steps at one resolution for small images.

Example (a doctest):

    >>> import jax, jax.numpy as jnp
    >>> from jinvnet.models import FlowDensity
    >>> x = jax.random.normal(jax.random.PRNGKey(0), (4, 4, 4, 2))
    >>> step = glow_step(conv="lu", coupling="additive", hidden_channels=8)
    >>> bijector = step.apply(step.init(jax.random.PRNGKey(1), x), x)
    >>> bool(jnp.allclose(bijector.inverse(bijector.forward(x)), x, atol=1e-5))
    True
    >>> model = FlowDensity(single_scale_glow(num_steps=2, hidden_channels=8))
    >>> density = model.apply(model.init(jax.random.PRNGKey(2), x), x)
    >>> density.log_prob(x).shape
    (4,)
"""

import flax.linen as nn

from jinvnet.models.actnorm import ActNorm
from jinvnet.models.conv1x1 import Conv1x1, Conv1x1LU
from jinvnet.models.coupling import AdditiveCoupling, AffineCoupling
from jinvnet.models.reshaping import Squeeze
from jinvnet.models.sequential import Sequential

_CONVS = {"lu": Conv1x1LU, "dense": Conv1x1}
_COUPLINGS = {"affine": AffineCoupling, "additive": AdditiveCoupling}


def glow_step(
    *, conv: str = "lu", coupling: str = "affine", hidden_channels: int = 64
) -> Sequential:
    """One Glow step: ActNorm, invertible 1x1 convolution, coupling.

    Args:
      conv: "lu" (default) or "dense" 1x1 convolution.
      coupling: "affine" (default) or "additive".
      hidden_channels: conditioner width (default 64).

    Returns:
      A `Sequential` module whose `__call__(x)` returns the step's bijector.
    """
    if conv not in _CONVS:
        raise ValueError(
            f"glow_step: conv must be one of {sorted(_CONVS)}, got {conv!r}"
        )
    if coupling not in _COUPLINGS:
        raise ValueError(
            f"glow_step: coupling must be one of {sorted(_COUPLINGS)}, got {coupling!r}"
        )
    return Sequential(
        [
            ActNorm(),
            _CONVS[conv](),
            _COUPLINGS[coupling](hidden_channels=hidden_channels),
        ]
    )


def single_scale_glow(
    *, num_steps: int = 8, hidden_channels: int = 64, coupling: str = "affine"
) -> nn.Module:
    """Squeeze then `num_steps` Glow steps: a small flow for demos and tests.

    Args:
      num_steps: number of Glow steps (default 8).
      hidden_channels: conditioner width (default 64).
      coupling: "affine" (default) or "additive".

    Returns:
      A module whose `__call__(x)` returns the data-to-latent bijector.
    """
    steps = [
        glow_step(coupling=coupling, hidden_channels=hidden_channels)
        for _ in range(num_steps)
    ]
    return Sequential([Squeeze(), *steps])
