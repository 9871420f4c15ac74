"""The Krylov lower bound on MintNet inversion (experiments/mintnet_inversion)."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from experiments.mintnet_inversion import krylov_bound
from jinvnet import bijectors
from jinvnet.ops import mint


def _layer_problem(upper=False, steps=4):
    """A strongly coupled Mint layer on 3x3x2 images (n = 18), float64."""
    params = mint.init(
        jax.random.PRNGKey(0), 2, num_groups=2, init_scale=1.5, dtype=jnp.float64
    )
    x_star = jax.random.normal(jax.random.PRNGKey(1), (2, 3, 3, 2), jnp.float64)
    z = mint.forward(params, x_star, upper=upper)[0]
    vectors = krylov_bound.krylov_vectors(params, x_star, z, upper=upper, steps=steps)
    return params, x_star, z, np.asarray(vectors)


@pytest.mark.parametrize("upper", [False, True])
def test_krylov_vectors_are_powers_of_the_dense_strictly_triangular_n(upper):
    with jax.enable_x64(True):
        params, x_star, z, vectors = _layer_problem(upper)
        for b in range(2):

            def flat(v):
                return mint.forward(params, v.reshape(1, 3, 3, 2), upper=upper)[0]

            jacobian = np.asarray(
                jax.jacfwd(lambda v: flat(v).reshape(-1))(x_star[b].reshape(-1))
            )
            n = jacobian / np.diag(jacobian)[:, None] - np.eye(18)
            # Strictly triangular in raster-then-channel order (ops.mint).
            part = np.triu(n) if not upper else np.tril(n)
            np.testing.assert_allclose(part, 0, atol=1e-12)
            v = np.asarray(z[b] - x_star[b]).reshape(-1)
            for j in range(vectors.shape[0]):
                np.testing.assert_allclose(vectors[j, b].reshape(-1), v, atol=1e-10)
                v = n @ v


def test_optimum_is_below_algorithm_1_and_zero_at_the_nilpotency_index():
    with jax.enable_x64(True):
        _, _, _, vectors = _layer_problem(steps=18)
    v = vectors[:, 0].reshape(19, -1)
    for k in (1, 3, 6):
        optimum = krylov_bound.min_max_combination(v[: k + 1])
        jacobi = np.max(np.abs(v[k]))  # s(x) = (-x)^k is feasible
        assert 0 <= optimum <= jacobi * (1 + 1e-9)
    # N^18 = 0 for a strictly triangular 18 x 18 N: the exact answer is reachable.
    assert np.max(np.abs(v[18])) < 1e-9 * np.max(np.abs(v[0]))
    assert krylov_bound.min_max_combination(v) < 1e-9 * np.max(np.abs(v[0]))


def test_one_step_optimum_matches_a_line_search():
    # k = 1: s_0 - s_1 = 1, so the error is e_0 + s_1 (e_0 + N e_0), a convex
    # piecewise-linear function of s_1: a dense scan finds its minimum.
    with jax.enable_x64(True):
        _, _, _, vectors = _layer_problem(steps=1)
    v = vectors[:, 1].reshape(2, -1)
    grid = np.linspace(-3, 3, 600_001)
    values = np.max(np.abs(v[0][None] + grid[:, None] * (v[0] + v[1])[None]), axis=1)
    assert krylov_bound.min_max_combination(v) == pytest.approx(values.min(), rel=1e-4)


def test_mint_layers_finds_every_layer_with_its_input_and_output():
    params = [mint.init(jax.random.PRNGKey(i), 2) for i in range(2)]
    block = bijectors.mint_block(params[0], params[1])
    x = jax.random.normal(jax.random.PRNGKey(3), (2, 3, 3, 2))
    layers = krylov_bound.mint_layers(block, x)
    assert [layer.upper for layer, _, _ in layers] == [False, True]
    np.testing.assert_allclose(layers[0][1], x)
    np.testing.assert_allclose(layers[1][1], layers[0][2])
    np.testing.assert_allclose(layers[1][2], block.forward(x), atol=1e-6)
