"""A learned diagonal Gaussian base N(mu, diag sigma^2) over a flow's latent.

Glow's top-level prior and normflows' `DiagGaussian` learn a mean and a scale per
latent entry. Written as the last bijector of the data-to-latent chain, so that
`FlowDensity`'s standard normal base stays as it is:

    forward:  z' = (z - mu) exp(-log_sigma),   log|det| = -sum(log_sigma)
    inverse:  z = z' exp(log_sigma) + mu,      log|det| = +sum(log_sigma)

and log N(z'; 0, I) - sum(log_sigma) = log N(z; mu, diag sigma^2). Per entry of
the event (height, width, channels), so the base can learn where an image is
usually blank (MNIST's borders).


Example (a doctest):

    >>> import jax, jax.numpy as jnp
    >>> x = jax.random.normal(jax.random.PRNGKey(0), (2, 4, 4, 3))
    >>> layer = DiagonalGaussianBase()
    >>> bijector = layer.apply(layer.init(jax.random.PRNGKey(1), x), x)
    >>> y, log_det = bijector.forward_and_log_det(x)   # the identity at init
    >>> bool(jnp.allclose(y, x)), log_det.tolist()
    (True, [0.0, 0.0])
"""

import distrax
import flax.linen as nn
import jax
import jax.numpy as jnp

from jinvnet import _validation


class DiagonalGaussianBase(nn.Module):
    """The learned diagonal Gaussian base as a bijector; the identity at init.

    Parameters `loc` (mu) and `log_scale` (log sigma) have the event shape
    (height, width, channels) of `x` and start at 0 (module docstring).
    """

    @nn.compact
    def __call__(self, x: jax.Array) -> distrax.Bijector:
        """x: a batch of shape (batch, height, width, channels) or its shape struct.

        Raises:
          ValueError: if x is not a floating batch of rank 4.
        """
        if len(x.shape) != 4:
            raise ValueError(
                "DiagonalGaussianBase: expected a batch of shape (batch, height, "
                f"width, channels), got shape {tuple(x.shape)}"
            )
        _validation.check_floating(x, "DiagonalGaussianBase")
        shape = tuple(x.shape[1:])
        loc = self.param("loc", nn.initializers.zeros, shape, x.dtype)
        log_scale = self.param("log_scale", nn.initializers.zeros, shape, x.dtype)
        inverse_scale = jnp.exp(-log_scale)
        affine = distrax.ScalarAffine(shift=-loc * inverse_scale, log_scale=-log_scale)
        return distrax.Block(affine, 3)
