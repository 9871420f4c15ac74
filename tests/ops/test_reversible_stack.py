"""Memory-saving backprop through reversible stacks equals plain autodiff (seed 004)."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from jinvnet import diagnostics
from jinvnet.ops import additive_coupling, irevnet, reversible_stack, revnet
from tests.conftest import roundoff
from tests.contract import perturb

DEPTH = 4


def _stack(coupling, dtype, scale=0.1, depth=DEPTH):
    k1, k2 = jax.random.split(jax.random.PRNGKey(0))
    params = reversible_stack.init(
        k1,
        depth,
        lambda k: revnet.init(k, 4, coupling=coupling, hidden_channels=8, dtype=dtype),
    )
    return perturb(params, k2, scale)


def _x(dtype):
    return jax.random.normal(jax.random.PRNGKey(1), (2, 4, 4, 4), dtype)


def _grads(block, params, x, memory_saving):
    weights = jax.random.normal(jax.random.PRNGKey(2), x.shape, x.dtype)

    def loss(p, v):
        y, log_det = reversible_stack.forward(block, p, v, memory_saving=memory_saving)
        return jnp.sum(weights * y) + jnp.sum(y**2) - 2.0 * jnp.sum(log_det)

    return jax.jit(jax.grad(loss, argnums=(0, 1)))(params, x)


def _relative_difference(a, b):
    diff = jax.tree_util.tree_map(lambda u, v: u - v, a, b)
    return _norm(diff) / _norm(b)


def _norm(tree):
    return np.sqrt(
        sum(float(jnp.sum(leaf**2)) for leaf in jax.tree_util.tree_leaves(tree))
    )


def _cosine(a, b):
    return float(jnp.cos(jnp.radians(diagnostics.gradient_angle(a, b))))


@pytest.mark.parametrize("coupling", ["additive", "affine"])
def test_forward_matches_blocks_applied_in_order(coupling, dtype):
    params, x = _stack(coupling, dtype), _x(dtype)
    block = revnet.block(coupling)
    h, total = x, 0.0
    for i in range(DEPTH):
        h, log_det = block.forward(
            jax.tree_util.tree_map(lambda leaf, i=i: leaf[i], params), h
        )
        total = total + log_det
    for memory_saving in (False, True):
        y, log_det = reversible_stack.forward(
            block, params, x, memory_saving=memory_saving
        )
        np.testing.assert_allclose(y, h, rtol=0, atol=roundoff(dtype, h))
        np.testing.assert_allclose(log_det, total, rtol=1e-5, atol=1e-5)
    x_back, inverse_log_det = reversible_stack.inverse(block, params, y)
    # DEPTH blocks undone, the affine ones amplifying: 1e-4 relative (~840 ulps).
    atol = roundoff(dtype, x, ulps=1024)
    np.testing.assert_allclose(x_back, x, rtol=0, atol=atol)
    np.testing.assert_allclose(inverse_log_det, -log_det, rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize("coupling", ["additive", "affine"])
def test_memory_saving_gradients_equal_autodiff_float64(coupling):
    with jax.enable_x64(True):
        params, x = _stack(coupling, jnp.float64), _x(jnp.float64)
        block = revnet.block(coupling)
        saving = _grads(block, params, x, True)
        standard = _grads(block, params, x, False)
        assert _relative_difference(saving, standard) < 1e-10


@pytest.mark.parametrize(
    "block",
    [revnet.additive, revnet.affine, irevnet.block],
    ids=["additive", "affine", "irevnet"],
)
def test_memory_saving_gradients_match_autodiff_float32(block):
    if block is irevnet.block:
        k1, k2 = jax.random.split(jax.random.PRNGKey(0))
        params = perturb(
            reversible_stack.init(
                k1, DEPTH, lambda k: irevnet.init(k, 4, hidden_channels=8)
            ),
            k2,
            0.1,
        )
    else:
        params = _stack("affine" if block is revnet.affine else "additive", jnp.float32)
    x = _x(jnp.float32)
    saving = _grads(block, params, x, True)
    standard = _grads(block, params, x, False)
    assert _cosine(saving, standard) >= 0.9999
    assert _relative_difference(saving, standard) < 1e-3


def test_memory_saving_gradients_drift_when_inverse_explodes():
    params = _stack("affine", jnp.float32)
    # Strongly negative log-scale pre-activations: s = sigmoid(-28) ~ 7e-13.
    c_b = params.f.net.b3.shape[-1] // 2
    params = params._replace(
        f=params.f._replace(
            net=params.f.net._replace(
                b3=params.f.net.b3.at[:, c_b:].set(-30.0).at[:, :c_b].set(1.0)
            )
        ),
    )
    x = _x(jnp.float32)
    saving = _grads(revnet.affine, params, x, True)
    standard = _grads(revnet.affine, params, x, False)
    angle = float(diagnostics.gradient_angle(saving, standard))
    assert not angle < 1.0, f"expected a large or NaN angle, got {angle}"


def test_accepts_an_op_module_as_block():
    k1, k2 = jax.random.split(jax.random.PRNGKey(0))
    params = perturb(
        reversible_stack.init(
            k1, 3, lambda k: additive_coupling.init(k, 4, hidden_channels=8)
        ),
        k2,
        0.1,
    )
    x = _x(jnp.float32)
    y, _ = reversible_stack.forward(additive_coupling, params, x)
    np.testing.assert_allclose(
        reversible_stack.inverse(additive_coupling, params, y)[0],
        x,
        rtol=0,
        atol=roundoff(jnp.float32, x),
    )


def test_memory_saving_activation_memory_is_flat_in_depth():
    x = _x(jnp.float32)

    def temp_bytes(depth, memory_saving):
        params = _stack("additive", jnp.float32, depth=depth)

        def loss(p):
            return jnp.sum(
                reversible_stack.forward(
                    revnet.additive, p, x, memory_saving=memory_saving
                )[0]
                ** 2
            )

        compiled = jax.jit(jax.grad(loss)).lower(params).compile()
        return compiled.memory_analysis().temp_size_in_bytes

    saving = [temp_bytes(d, True) for d in (4, 16)]
    standard = [temp_bytes(d, False) for d in (4, 16)]
    assert saving[1] <= 1.1 * saving[0] + 4096
    assert standard[1] > 2 * standard[0]


def test_raises_if_depth_axes_differ():
    params = _stack("additive", jnp.float32)
    params = params._replace(g=jax.tree_util.tree_map(lambda leaf: leaf[:2], params.g))
    with pytest.raises(ValueError, match="leading"):
        reversible_stack.forward(revnet.additive, params, _x(jnp.float32))


def test_raises_if_depth_not_positive():
    with pytest.raises(ValueError, match="depth must be a positive integer"):
        reversible_stack.init(jax.random.PRNGKey(0), 0, lambda k: None)


def test_memory_saving_path_rejects_forward_mode():
    params, x = _stack("additive", jnp.float32), _x(jnp.float32)
    with pytest.raises(TypeError, match="custom_vjp"):
        jax.jvp(
            lambda v: reversible_stack.forward(revnet.additive, params, v)[0],
            (x,),
            (x,),
        )
