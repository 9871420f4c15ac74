"""Variational dequantisation: a learned noise distribution q(u | k) (Flow++).

Ho et al. 2019, Sec. 3.1: instead of uniform noise u ~ U[0, 1)^D, the pixels k are
dequantised to x = (k + u) / K - 1/2 with u drawn from a conditional flow q(u | k)
trained jointly with the density p, on the bound of
`jinvnet.data.dequantization.variational_bits_per_dim`.

Example (a doctest): the bound on 8x8 digits with 17 levels.

    >>> import jax, jax.numpy as jnp
    >>> from jinvnet.models import FlowDensity, glow
    >>> pixels = jax.random.randint(jax.random.PRNGKey(0), (2, 8, 8, 1), 0, 17)
    >>> density = FlowDensity(glow(num_levels=1, steps_per_level=1, hidden_channels=8))
    >>> model = VariationalDequantization(density, Dequantizer(num_steps=2))
    >>> x = jnp.zeros(pixels.shape)
    >>> variables = model.init(jax.random.PRNGKey(1), x)
    >>> sorted(variables["params"])
    ['density', 'dequantizer']
    >>> bound = model.apply(variables, pixels, jax.random.PRNGKey(2), num_bins=17,
    ...                     method="bound")
    >>> isinstance(bound, Bound), bound.bits_per_dim.shape
    (True, (2,))
    >>> ln2 = jnp.log(2.0)
    >>> expected = (bound.log_q - bound.log_prob) / (64 * ln2) + jnp.log2(17.0)
    >>> bool(jnp.allclose(bound.bits_per_dim, expected, atol=1e-4))
    True
"""

import functools
import math
from typing import NamedTuple

import distrax
import flax.linen as nn
import jax
import jax.numpy as jnp

from jinvnet import _validation, bijectors
from jinvnet.data.dequantization import dequantize, variational_bits_per_dim
from jinvnet.models._initial import initial_value
from jinvnet.models.density import standard_normal
from jinvnet.ops import actnorm, conditional_coupling, conv_net, logit

INITIAL_SCALE = 1.75
"""eps is scaled by this at initialisation: sigmoid(1.75 eps) is the logit-normal
closest to U(0, 1) (KL 0.0095 nats = 0.014 bits per dimension; 0.19 nats for
sigmoid(eps)), so an untrained dequantiser is nearly the uniform one."""


def _declare(module: nn.Module, prefix: str, start) -> conv_net.Params:
    """Declares a conv_net's parameters as `<prefix>_<field>`, drawn by `start`."""
    return conv_net.Params(
        *(
            module.param(f"{prefix}_{name}", lambda key, n=name: getattr(start(key), n))
            for name in conv_net.Params._fields
        )
    )


def _feature_net(key, channels: int, features: int, hidden: int, dtype):
    """A conv_net whose output layer is He-normal too, so features start non-zero."""
    k_net, k_out = jax.random.split(key)
    net = conv_net.init(k_net, channels, features, hidden_channels=hidden, dtype=dtype)
    w3 = jax.nn.initializers.he_normal()(k_out, net.w3.shape, dtype)
    return net._replace(w3=w3)


class Dequantizer(nn.Module):
    """The conditional flow of q(u | k): u = sigmoid(h(eps; k)), eps ~ N(0, I).

    With centres c = (k + 1/2) / K - 1/2 of shape (batch, height, width, channels)
    and features F = NN_F(c) (a `conv_net`, `feature_channels` outputs),

        z_0 = (eps + loc) * exp(log_scale)               (ActNorm, 1.75 eps at init)
        z_i = ConditionalCoupling(z_{i-1}; F), parity i % 2, i = 1..num_steps
        u = sigmoid(z_n)                        (the inverse logit transform)

    and log q(u | k) = log N(eps; 0, I) - log|det du/deps| with

        log|det du/deps| = H W sum(log_scale) + sum_i sum (1 - m_i) log s_i
                           + sum [log sigmoid(z_n) + log sigmoid(-z_n)]

    (`ops.actnorm`, `ops.conditional_coupling`, `ops.logit` with alpha = 0). The
    couplings start as the identity, so q starts as sigmoid(1.75 eps), independent
    of k (`INITIAL_SCALE`).

    Attributes:
      hidden_channels: width of the feature and coupling networks (default 32).
      num_steps: number of conditional couplings (default 4; even, so every pixel
        is transformed num_steps / 2 times).
      feature_channels: channels f of the features F (default 16).
    """

    hidden_channels: int = 32
    num_steps: int = 4
    feature_channels: int = 16

    @nn.compact
    def __call__(self, centres: jax.Array) -> distrax.Bijector:
        """The bijector eps -> v = u - 1/2 given the pixels.

        Args:
          centres: bin centres (k + 1/2) / K - 1/2 of the pixels k, float32 or
            float64, shape (batch, height, width, channels).

        Returns:
          a bijector with event shape (height, width, channels) whose forward maps
          eps to v = u - 1/2 in (-1/2, 1/2) and whose `forward_log_det_jacobian`
          is log|det du/deps|.

        Raises:
          ValueError: wrong rank or dtype of `centres`, or non-positive sizes.
        """
        name = type(self).__name__
        _validation.check_image(centres, name)
        for what in ("hidden_channels", "num_steps", "feature_channels"):
            _validation.check_positive_int(getattr(self, what), name, what)
        dtype, channels = centres.dtype, centres.shape[-1]
        make_features = functools.partial(
            _feature_net,
            channels=channels,
            features=self.feature_channels,
            hidden=self.hidden_channels,
            dtype=dtype,
        )
        features = conv_net.apply(
            _declare(self, "features", initial_value(self, make_features)), centres
        )
        scale = actnorm.Params(
            loc=self.param("actnorm_loc", nn.initializers.zeros, (channels,), dtype),
            log_scale=self.param(
                "actnorm_log_scale",
                nn.initializers.constant(math.log(INITIAL_SCALE)),
                (channels,),
                dtype,
            ),
        )
        layers = [bijectors.ActNorm(scale)]
        for i in range(self.num_steps):
            make = functools.partial(
                conv_net.init,
                in_channels=channels + self.feature_channels,
                out_channels=2 * channels,
                hidden_channels=self.hidden_channels,
                dtype=dtype,
            )
            net = _declare(self, f"coupling{i}", initial_value(self, make))
            params = conditional_coupling.Params(net=net, context=features)
            layers.append(bijectors.ConditionalCoupling(params, parity=i % 2))
        layers.append(distrax.Inverse(bijectors.Logit(logit.init(0.0, dtype))))
        return distrax.Chain(layers[::-1])

    def sample_and_log_prob(
        self, centres: jax.Array, eps: jax.Array
    ) -> tuple[jax.Array, jax.Array]:
        """Maps standard normal `eps` to u = sigmoid(h(eps; k)); returns (u, log q).

        Args:
          centres: (batch, height, width, channels) bin centres, as `__call__`.
          eps: standard normal draws of the same shape.

        Returns:
          u in [0, 1] of the shape of eps, and log q(u | k) (nats) of shape (batch,).
        """
        v, log_det = self(centres).forward_and_log_det(eps)
        log_q = standard_normal(eps.shape[-3:], eps.dtype).log_prob(eps) - log_det
        return v + 0.5, log_q


class Bound(NamedTuple):
    """Per-example terms of the variational bound, each of shape (batch,).

    Attributes:
      log_prob: log p(x) (nats) at the dequantised x = (k + u) / K - 1/2.
      log_q: log q(u | k) (nats) of the noise drawn.
      bits_per_dim: (-log p(x) + log q(u | k)) / (D ln 2) + log2 K.
    """

    log_prob: jax.Array
    log_q: jax.Array
    bits_per_dim: jax.Array


class VariationalDequantization(nn.Module):
    """A density p(x) trained through a variational dequantiser q(u | k) (Flow++).

    The parameters of both live in this module ("density" and "dequantizer"), so a
    trainer, its checkpoints and its EMA treat them alike. `__call__(x)` returns the
    density's distribution (for sampling and figures, as `FlowDensity`);
    `bound(pixels, key, num_bins=K)` draws u ~ q(u | k) and returns the bound.

    Attributes:
      density: a module whose `__call__(x)` returns a distribution over images of
        shape (height, width, channels) (e.g. `FlowDensity`).
      dequantizer: a module with `sample_and_log_prob(centres, eps)` (e.g.
        `Dequantizer`).
    """

    density: nn.Module
    dequantizer: nn.Module

    def __call__(self, x: jax.Array) -> distrax.Distribution:
        """The density's distribution; at `init` it also creates q's parameters.

        Args:
          x: dequantised images (batch, height, width, channels) in [-1/2, 1/2), or
            their shape struct after `init`.
        """
        if self.is_initializing():
            zeros = jnp.zeros(x.shape, x.dtype)
            self.dequantizer.sample_and_log_prob(zeros, zeros)
        return self.density(x)

    def bound(self, pixels: jax.Array, key: jax.Array, *, num_bins: int) -> Bound:
        """The variational bound at u ~ q(u | k), one draw per example.

        With eps ~ N(0, I) from `key`, u = sigmoid(h(eps; k)) and
        x = (k + u) / K - 1/2 (`data.dequantize`):

            bits/dim = (-log p(x) + log q(u | k)) / (D ln 2) + log2 K,

        an unbiased estimate of an upper bound on the discrete NLL in bits/dim
        (`data.variational_bits_per_dim`). Gradients reach both p and q (q by
        reparameterisation).

        Args:
          pixels: integer pixels k in [0, K), shape (batch, height, width, channels).
          key: PRNG key for eps.
          num_bins: number of pixel levels K.

        Returns:
          a `Bound` of per-example terms.

        Raises:
          ValueError: if `pixels` is not an integer image batch.
        """
        name = f"{type(self).__name__}.bound"
        if jnp.ndim(pixels) != 4 or not jnp.issubdtype(pixels.dtype, jnp.integer):
            raise ValueError(
                f"{name}: expected integer pixels of shape (batch, height, width, "
                f"channels), got dtype {pixels.dtype} and shape {jnp.shape(pixels)}"
            )
        centres = dequantize(pixels, num_bins, None)
        eps = jax.random.normal(key, pixels.shape, centres.dtype)
        u, log_q = self.dequantizer.sample_and_log_prob(centres, eps)
        x = dequantize(pixels, num_bins, u)
        log_prob = self.density(x).log_prob(x)
        num_dims = math.prod(pixels.shape[1:])
        return Bound(
            log_prob,
            log_q,
            variational_bits_per_dim(log_prob, log_q, num_dims, num_bins),
        )
