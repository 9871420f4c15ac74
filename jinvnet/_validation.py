"""Shape and dtype checks shared by every op, raised at trace time.

All checks look only at static information (shapes and dtypes), so they run once when
a function is traced under `jit` and never inside the compiled computation.
"""

from typing import Optional

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
    """Raises a ValueError asking for a float cast if `x` is not floating point."""
    dtype = jnp.result_type(x)
    if not jnp.issubdtype(dtype, jnp.floating):
        raise ValueError(
            f"{name}: expected a floating-point input, got dtype {dtype}; cast it "
            f"first, e.g. x.astype(jnp.float32) (and dequantise integer pixels)"
        )


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
