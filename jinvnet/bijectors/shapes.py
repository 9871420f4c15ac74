"""The shape and dtype of a bijector's output, without tracing it where it can say.

Building a flow's modules needs each layer's output shape, and `jax.eval_shape`
gets it by tracing the layer's forward pass. For a scanned level of D steps that
trace is the whole step body, and a multi-scale flow asked for the shapes of its
nested levels traced each scanned level two to four times more before the real
trace (issue 16 item 3: tracing and lowering the CIFAR L3 D32 CInC + quad train
step took 2.9-3.1 s with those traces, 1.9 s without; docs/benchmarks.md).
Bijectors whose output has their input's shape and dtype by construction say so
with a class attribute `keeps_shape = True`, and `forward_shape` then answers
without tracing; `distrax.Chain` and `distrax.Inverse` are looked through; any
other bijector is traced with `jax.eval_shape`, as before.

Example (a doctest): a chain of a squeeze (traced: it changes the shape) and an
ActNorm (keeps it, answered directly).

    >>> import distrax, jax, jax.numpy as jnp
    >>> from jinvnet import bijectors, ops
    >>> norm = bijectors.ActNorm(ops.actnorm.Params(jnp.zeros(8), jnp.zeros(8)))
    >>> chain = distrax.Chain([norm, bijectors.Squeeze()])   # squeeze first
    >>> bijectors.keeps_shape(norm), bijectors.keeps_shape(chain)
    (True, False)
    >>> x = jax.ShapeDtypeStruct((2, 4, 4, 2), jnp.float32)
    >>> bijectors.forward_shape(chain, x)
    ShapeDtypeStruct(shape=(2, 2, 2, 8), dtype=float32)
    >>> bijectors.forward_shape(chain, x) == jax.eval_shape(chain.forward, x)
    True
"""

import distrax
import jax


def keeps_shape(bijector: distrax.Bijector) -> bool:
    """Whether `bijector.forward` maps every input to its own shape and dtype.

    True for bijectors with `keeps_shape = True`, for `distrax.Inverse` of one, and
    for a `distrax.Chain` of such; False otherwise (which only means "not known").
    """
    if isinstance(bijector, distrax.Chain):
        return all(keeps_shape(b) for b in bijector.bijectors)
    if isinstance(bijector, distrax.Inverse):
        return keeps_shape(bijector.bijector)
    return bool(getattr(bijector, "keeps_shape", False))


def forward_shape(
    bijector: distrax.Bijector, x: jax.Array | jax.ShapeDtypeStruct
) -> jax.ShapeDtypeStruct:
    """`jax.eval_shape(bijector.forward, x)`, traced only for the layers that need it.

    Args:
      bijector: any distrax bijector.
      x: an input or its shape and dtype.

    Returns:
      The shape and dtype of `bijector.forward(x)`.
    """
    x = jax.ShapeDtypeStruct(x.shape, x.dtype)
    if keeps_shape(bijector):
        return x
    if isinstance(bijector, distrax.Chain):
        for layer in reversed(bijector.bijectors):  # a chain applies its last first
            x = forward_shape(layer, x)
        return x
    return jax.eval_shape(bijector.forward, x)
