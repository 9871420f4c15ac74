"""The convolutional conditioner used inside coupling layers (Glow's NN()).

A pure three-layer network on (..., height, width, in_channels):

    h1 = relu(conv3x3(x) + b1)
    h2 = relu(conv1x1(h1) + b2)
    out = conv3x3(h2) + b3         (w3 and b3 start at zero, so a coupling starts
                                    as the identity or a fixed scale)

Convolutions use zero "SAME" padding. Params: `Params(w1, b1, w2, b2, w3, b3)` with
kernels in HWIO layout.

Example (a doctest):

    >>> import jax, jax.numpy as jnp
    >>> params = init(jax.random.PRNGKey(0), 2, 6, hidden_channels=16)   # a Params
    >>> isinstance(params, Params), params.w1.shape, params.w3.shape
    (True, (3, 3, 2, 16), (3, 3, 16, 6))
    >>> out = apply(params, jnp.ones((4, 8, 8, 2)))
    >>> out.shape, float(jnp.abs(out).max())          # the output layer starts at zero
    ((4, 8, 8, 6), 0.0)
"""

from typing import NamedTuple

import chex
import jax
import jax.numpy as jnp
import numpy as np

from jinvnet import _validation
from jinvnet.ops import gemm_conv

_NAME = "conv_net"
# How the two hidden layers start: He-normal weights N(0, 2 / fan_in) and zero
# biases, or PyTorch's default for a convolution (normflows', the peer's):
# weights and biases U(-1 / sqrt(fan_in), 1 / sqrt(fan_in)).
HIDDEN_INITS = ("he_normal", "uniform")


class Params(NamedTuple):
    """Kernels (kh, kw, in, out) and biases (out,) of the three convolutions."""

    w1: jax.Array
    b1: jax.Array
    w2: jax.Array
    b2: jax.Array
    w3: jax.Array
    b3: jax.Array


def init(
    key: chex.PRNGKey,
    in_channels: int,
    out_channels: int,
    *,
    hidden_channels: int = 64,
    kernel_size: int = 3,
    hidden_init: str = "he_normal",
    dtype: jnp.dtype = jnp.float32,
) -> Params:
    """Random hidden layers (`HIDDEN_INITS`, default He-normal), a zero output layer.

    Raises:
      ValueError: a non-positive size or an unknown hidden_init.
    """
    for what, value in (
        ("in_channels", in_channels),
        ("out_channels", out_channels),
        ("hidden_channels", hidden_channels),
        ("kernel_size", kernel_size),
    ):
        _validation.check_positive_int(value, _NAME, what)
    _validation.check_dtype(dtype, _NAME, "parameter dtype")
    if hidden_init not in HIDDEN_INITS:
        raise ValueError(
            f"{_NAME}: hidden_init must be one of {HIDDEN_INITS}, got {hidden_init!r}"
        )
    k = kernel_size
    shape1 = (k, k, in_channels, hidden_channels)
    shape2 = (1, 1, hidden_channels, hidden_channels)
    keys = jax.random.split(key, 4)
    if hidden_init == "he_normal":
        he = jax.nn.initializers.he_normal()
        w1, w2 = he(keys[0], shape1, dtype), he(keys[1], shape2, dtype)
        b1 = b2 = jnp.zeros((hidden_channels,), dtype)
    else:

        def uniform(key, shape, fan_in):
            bound = 1.0 / np.sqrt(fan_in)
            return jax.random.uniform(key, shape, dtype, -bound, bound)

        fan_in1, fan_in2 = k * k * in_channels, hidden_channels
        w1, w2 = uniform(keys[0], shape1, fan_in1), uniform(keys[1], shape2, fan_in2)
        b1 = uniform(keys[2], (hidden_channels,), fan_in1)
        b2 = uniform(keys[3], (hidden_channels,), fan_in2)
    return Params(
        w1=w1,
        b1=b1,
        w2=w2,
        b2=b2,
        w3=jnp.zeros((k, k, hidden_channels, out_channels), dtype),
        b3=jnp.zeros((out_channels,), dtype),
    )


def _conv(x: jax.Array, w: jax.Array, b: jax.Array) -> jax.Array:
    """A "SAME" convolution; as matrix products where XLA:CPU's convolution is slow.

    All routes give the same numbers up to rounding. A 1x1 kernel is a matrix
    product over channels: XLA:CPU runs the 1x1 convolution's gradients as generic
    convolutions, slower than the matmuls a `dot_general` differentiates to. On the
    CPU a k x k kernel with a side of >= 64 channels goes through `gemm_conv`
    (docs/benchmarks.md, "Training throughput" and "Measured once, behind design
    choices").
    """
    if w.shape[:2] == (1, 1):
        return jnp.einsum("nhwi,io->nhwo", x, w[0, 0]) + b
    if gemm_conv.preferred(w.shape[2], w.shape[3]):
        return gemm_conv.conv(x, w) + b
    y = jax.lax.conv_general_dilated(
        x, w, (1, 1), "SAME", dimension_numbers=("NHWC", "HWIO", "NHWC")
    )
    return y + b


def apply(params: Params, x: jax.Array) -> jax.Array:
    """Runs the network on x of shape (..., height, width, in_channels).

    Returns:
      An array of shape (..., height, width, out_channels).
    """
    _validation.check_params(params, _NAME)
    _validation.check_image(x, _NAME, channels=params.w1.shape[2])
    batch_shape = x.shape[:-3]
    h = x.reshape((-1,) + x.shape[-3:])
    h = jax.nn.relu(_conv(h, params.w1, params.b1))
    h = jax.nn.relu(_conv(h, params.w2, params.b2))
    h = _conv(h, params.w3, params.b3)
    return h.reshape(batch_shape + h.shape[1:])
