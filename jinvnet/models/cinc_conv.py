"""Flax module for the CInC invertible k x k convolution (CInC Flow, seed 001).

Example (a doctest):

    >>> import jax, jax.numpy as jnp
    >>> x = jax.random.normal(jax.random.PRNGKey(0), (2, 8, 8, 4))
    >>> layer = CInCConv(method="rows")
    >>> variables = layer.init(jax.random.PRNGKey(1), x)
    >>> sorted(variables["params"])
    ['kernel', 'log_diag']
    >>> bijector = layer.apply(variables, x)      # a bijectors.CInCConv
    >>> bool(jnp.allclose(bijector.inverse(bijector.forward(x)), x, atol=1e-4))
    True
"""

import functools
from typing import Optional

import distrax
import flax.linen as nn
import jax

from jinvnet import bijectors
from jinvnet.models._initial import initial_value
from jinvnet.ops import cinc


class CInCConv(nn.Module):
    """Declares a CInC kernel (and log-diagonal) and returns `bijectors.CInCConv`.

    Starts near the identity (`ops.cinc.init`): centre diagonal 1 + O(init_scale),
    other taps N(0, init_scale^2).

    Attributes:
      kernel_size: k (default 3).
      unit_diagonal: the seed's always-invertible variant, log-det 0 (default False).
      method: inverse solver, one of `ops.cinc.METHODS` (default "fast").
      init_scale: standard deviation of the initial noise; None (default) is
        0.1 / sqrt(k^2 c), the fan-in scaling of `ops.cinc.init`.
    """

    kernel_size: int = 3
    unit_diagonal: bool = False
    method: str = "fast"
    init_scale: Optional[float] = None

    @nn.compact
    def __call__(self, x: jax.Array) -> distrax.Bijector:
        """x: a batch of shape (batch, height, width, channels) or its shape struct."""
        make = functools.partial(
            cinc.init,
            channels=x.shape[-1],
            kernel_size=self.kernel_size,
            unit_diagonal=self.unit_diagonal,
            init_scale=self.init_scale,
            dtype=x.dtype,
        )
        start = initial_value(self, make)
        kernel = self.param("kernel", lambda key: start(key).kernel)
        log_diag = (
            None
            if self.unit_diagonal
            else self.param("log_diag", lambda key: start(key).log_diag)
        )
        return bijectors.CInCConv(cinc.Params(kernel, log_diag), method=self.method)

    def free_mask(self) -> dict:
        """Param name -> 0/1 mask of its trained entries (`ops.cinc.free_mask`)."""
        params = self.variables["params"]
        masks = cinc.free_mask(cinc.Params(params["kernel"], params.get("log_diag")))
        return {name: m for name, m in masks._asdict().items() if m is not None}
