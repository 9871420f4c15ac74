"""Flax module for the emerging convolution (Hoogeboom et al. 2019).

Example (a doctest):

    >>> import jax, jax.numpy as jnp
    >>> x = jax.random.normal(jax.random.PRNGKey(0), (2, 8, 8, 4))
    >>> layer = EmergingConv(method="wavefront")
    >>> bijector = layer.apply(layer.init(jax.random.PRNGKey(1), x), x)
    >>> y, log_det = bijector.forward_and_log_det(x)
    >>> bool(jnp.allclose(bijector.inverse(y), x, atol=1e-4)), log_det.shape
    (True, (2,))
"""

import functools
from typing import Optional

import distrax
import flax.linen as nn
import jax

from jinvnet import bijectors
from jinvnet.models._initial import initial_value
from jinvnet.ops import conv1x1_lu, emerging


class EmergingConv(nn.Module):
    """LU 1x1 plus two masked k x k convolutions; returns `bijectors.EmergingConv`.

    Starts as a random rotation (the 1x1) with small masked taps
    (`ops.emerging.init`). The 1x1's permutation and signs live in the
    `constants` collection, as in `Conv1x1LU`.

    Attributes:
      kernel_size: k, odd (default 3).
      method: inverse solver, one of `ops.emerging.METHODS` (default "fast").
      init_scale: standard deviation of the initial taps; None (default) is
        0.1 / sqrt(k^2 c), the fan-in scaling of `ops.emerging.init`.
    """

    kernel_size: int = 3
    method: str = "fast"
    init_scale: Optional[float] = None

    @nn.compact
    def __call__(self, x: jax.Array) -> distrax.Bijector:
        """x: a batch of shape (batch, height, width, channels) or its shape struct."""
        make = functools.partial(
            emerging.init,
            channels=x.shape[-1],
            kernel_size=self.kernel_size,
            init_scale=self.init_scale,
            dtype=x.dtype,
        )
        start = initial_value(self, make)
        fixed = {
            name: self.variable(
                "constants", name, lambda n=name: getattr(start(None).conv1x1, n)
            ).value
            for name in ("permutation", "sign")
        }
        learned = {
            name: self.param(name, lambda key, n=name: getattr(start(key).conv1x1, n))
            for name in ("lower", "upper", "log_scale")
        }
        kernels = {
            name: self.param(name, lambda key, n=name: getattr(start(key), n))
            for name in ("causal", "anticausal")
        }
        params = emerging.Params(
            conv1x1=conv1x1_lu.Params(**fixed, **learned), **kernels
        )
        return bijectors.EmergingConv(params, method=self.method)

    def free_mask(self) -> dict:
        """Param name -> 0/1 mask of its trained entries (`ops.emerging.free_mask`)."""
        p = self.variables["params"]
        lu = conv1x1_lu.Params(None, None, p["lower"], p["upper"], p["log_scale"])
        masks = emerging.free_mask(emerging.Params(lu, p["causal"], p["anticausal"]))
        return {
            **{n: m for n, m in masks.conv1x1._asdict().items() if m is not None},
            "causal": masks.causal,
            "anticausal": masks.anticausal,
        }
