"""The angle between two gradients: memory-saving vs standard backprop (seed 004)."""

import chex
import jax
import jax.numpy as jnp


def gradient_angle(a: chex.ArrayTree, b: chex.ArrayTree) -> jax.Array:
    """Angle in degrees between two pytrees of arrays, flattened into vectors.

    Behrmann et al. 2021 (seed 004) track this angle between memory-saving and
    standard gradients during training: it stays near 0 for a stable model and grows
    (eventually NaN) once the inverse explodes.

    Args:
      a: a pytree of arrays.
      b: a pytree of arrays with the same structure and shapes.

    Returns:
      A scalar angle in [0, 180] degrees; NaN if either gradient is non-finite or 0.

    Examples:
      >>> import jax.numpy as jnp
      >>> a, b = {"w": jnp.array([1.0, 0.0])}, {"w": jnp.array([0.0, 2.0])}
      >>> float(gradient_angle(a, b))
      90.0
    """
    leaves_a, leaves_b = jax.tree_util.tree_leaves(a), jax.tree_util.tree_leaves(b)
    if jax.tree_util.tree_structure(a) != jax.tree_util.tree_structure(b):
        raise ValueError(
            "gradient_angle: the two gradients must have the same tree structure, got "
            f"{jax.tree_util.tree_structure(a)} and {jax.tree_util.tree_structure(b)}"
        )
    norm_a = jnp.sqrt(sum(jnp.vdot(x, x) for x in leaves_a))
    norm_b = jnp.sqrt(sum(jnp.vdot(y, y) for y in leaves_b))
    chord = jnp.sqrt(
        sum(jnp.sum((x / norm_a - y / norm_b) ** 2) for x, y in zip(leaves_a, leaves_b))
    )
    # 2 arcsin(|a/|a| - b/|b|| / 2) is accurate for small angles, unlike arccos.
    return jnp.degrees(2.0 * jnp.arcsin(jnp.minimum(chord / 2.0, 1.0)))
