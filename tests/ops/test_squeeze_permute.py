"""Squeeze and channel permutation: exact index formulas, bit-exact inverses."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from jinvnet.ops import permute, squeeze


def test_squeeze_matches_index_formula():
    x = np.arange(2 * 4 * 6 * 3, dtype=np.float32).reshape(2, 4, 6, 3)
    y, log_det = squeeze.forward(jnp.asarray(x))
    assert y.shape == (2, 2, 3, 12)
    for i in range(2):
        for j in range(3):
            for a in range(2):
                for b in range(2):
                    np.testing.assert_array_equal(
                        y[:, i, j, (2 * a + b) * 3 : (2 * a + b + 1) * 3],
                        x[:, 2 * i + a, 2 * j + b, :],
                    )
    np.testing.assert_array_equal(log_det, np.zeros(2))


def test_squeeze_round_trip_is_bit_exact():
    x = jax.random.normal(jax.random.PRNGKey(0), (3, 8, 4, 5))
    np.testing.assert_array_equal(squeeze.inverse(squeeze.forward(x)[0])[0], x)


def test_raises_if_odd_height():
    with pytest.raises(ValueError, match=r"height must be divisible by 2, got 7"):
        squeeze.forward(jnp.ones((1, 7, 4, 1)))


def test_raises_if_unsqueeze_channels_not_multiple_of_4():
    with pytest.raises(ValueError, match="divisible by 4, got 6"):
        squeeze.inverse(jnp.ones((1, 2, 2, 6)))


def test_permutation_round_trip_and_reverse():
    x = jax.random.normal(jax.random.PRNGKey(1), (2, 3, 3, 5))
    perm = permute.init(jax.random.PRNGKey(2), 5)
    y, _ = permute.forward(perm, x)
    np.testing.assert_array_equal(y, np.asarray(x)[..., np.asarray(perm)])
    np.testing.assert_array_equal(permute.inverse(perm, y)[0], x)
    np.testing.assert_array_equal(
        permute.forward(permute.reverse(5), x)[0], x[..., ::-1]
    )


def test_raises_if_permutation_is_float():
    with pytest.raises(ValueError, match="1-D integer array"):
        permute.forward(jnp.arange(3.0), jnp.ones((1, 2, 2, 3)))
