"""Shape and dtype checks shared by every op, raised at trace time.

All checks look only at static information (shapes and dtypes), so they run once when
a function is traced under `jit` and never inside the compiled computation.

Dtype policy: inputs and parameters must be float32 or float64; integer and
half-precision (float16, bfloat16) arrays are rejected with a ValueError that asks
for a float32 cast (`check_dtype`).
"""

from typing import Any, Optional

import jax
import jax.numpy as jnp


def check_image(
    x: jax.Array,
    name: str,
    *,
    channels: Optional[int] = None,
    height: Optional[int] = None,
    width: Optional[int] = None,
) -> None:
    """Checks that `x` is a floating image batch (..., height, width, channels).

    Args:
      x: the array to check.
      name: the op or bijector the check is for; it opens the error message.
      channels: the required number of channels, if fixed by the parameters.
      height: the required height, if fixed.
      width: the required width, if fixed.

    Raises:
      ValueError: if `x` has fewer than 3 dimensions, a non-floating dtype, or a
        height, width or channel count other than the required one.
    """
    shape = tuple(jnp.shape(x))
    expected = (
        f"(..., {height if height is not None else 'height'}, "
        f"{width if width is not None else 'width'}, "
        f"{channels if channels is not None else 'channels'})"
    )
    if len(shape) < 3:
        raise ValueError(
            f"{name}: expected an image of shape {expected} with at least 3 "
            f"dimensions, got shape {shape} ({len(shape)} dimensions)"
        )
    check_floating(x, name)
    for axis, required, label in (
        (-3, height, "height"),
        (-2, width, "width"),
        (-1, channels, "channels"),
    ):
        if required is not None and shape[axis] != required:
            raise ValueError(
                f"{name}: expected input of shape {expected}, got {shape} "
                f"({label} {shape[axis]} != {required})"
            )


def check_floating(x: jax.Array, name: str) -> None:
    """Raises a ValueError asking for a float32 cast unless `x` is float32 or float64.

    Integer, complex and half-precision (float16, bfloat16, float8) inputs are
    rejected: see `check_dtype`.
    """
    check_dtype(jnp.result_type(x), name)


def check_dtype(dtype: jnp.dtype, name: str, what: str = "input") -> None:
    """Raises a ValueError unless `dtype` is float32 or float64.

    The policy for every op, bijector and Flax model: they compute in float32 or
    float64 only. Half precision is rejected rather than computed in, because
    log-dets are sums over every pixel (a 128 x 128 x 4 image overflows float16's
    65504) and the inverses lose all accuracy; mixed-precision training keeps the
    flow in float32.

    Args:
      dtype: the dtype to check (of an input, or of parameters to create).
      name: the op or bijector the check is for; it opens the error message.
      what: what has this dtype, for the message ("input", "kernel", ...).
    """
    dtype = jnp.dtype(dtype)
    if not jnp.issubdtype(dtype, jnp.floating):
        raise ValueError(
            f"{name}: expected a floating-point {what} (float32 or float64), got "
            f"dtype {dtype}; cast it first, e.g. x.astype(jnp.float32) (and "
            f"dequantise integer pixels)"
        )
    if dtype.itemsize < 4:
        raise ValueError(
            f"{name}: expected a float32 or float64 {what}, got dtype {dtype}: half "
            f"precision is not supported (its log-dets overflow and its inverses are "
            f"inaccurate); cast to float32 first, e.g. x.astype(jnp.float32), and "
            f"keep the flow in float32 under mixed precision"
        )


def check_params(params: Any, name: str) -> None:
    """Raises a ValueError unless every floating leaf of `params` is float32/float64.

    Integer leaves (permutations) and None are allowed; see `check_dtype`.
    """
    for leaf in jax.tree_util.tree_leaves(params):
        dtype = getattr(leaf, "dtype", None)
        if dtype is not None and jnp.issubdtype(dtype, jnp.floating):
            check_dtype(dtype, name, "parameter")


def check_divisible(size: int, factor: int, name: str, what: str) -> None:
    """Raises if `size` is not divisible by `factor` (e.g. an odd squeeze height)."""
    if size % factor != 0:
        raise ValueError(
            f"{name}: {what} must be divisible by {factor}, got {size} "
            f"({size} % {factor} = {size % factor})"
        )


def check_positive_int(value: int, name: str, what: str) -> None:
    """Raises if `value` is not a positive integer."""
    if not isinstance(value, int) or value < 1:
        raise ValueError(f"{name}: {what} must be a positive integer, got {value!r}")


def check_choice(value: Any, choices: tuple, name: str, what: str) -> None:
    """Raises a ValueError unless `value` is one of `choices`."""
    if value not in choices:
        raise ValueError(f"{name}: {what} must be one of {choices}, got {value!r}")


def check_square_matrix(m: jax.Array, name: str, what: str, size: int) -> None:
    """Raises unless `m` has shape (size, size)."""
    shape = tuple(jnp.shape(m))
    if shape != (size, size):
        raise ValueError(
            f"{name}: `{what}` must be a square matrix of shape ({size}, {size}), "
            f"got shape {shape}"
        )


def event_batch_shape(x: jax.Array) -> tuple[int, ...]:
    """Batch shape of an image array of shape (*batch, height, width, channels)."""
    return tuple(jnp.shape(x))[:-3]
