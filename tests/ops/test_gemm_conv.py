"""gemm_conv.conv against XLA's convolution: value and both gradients, float64."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from jinvnet.ops import conv_net, gemm_conv


@pytest.fixture(autouse=True)
def float64():
    with jax.enable_x64(True):
        yield


def _reference(x, kernel):
    return jax.lax.conv_general_dilated(
        x,
        kernel,
        (1, 1),
        "SAME",
        dimension_numbers=("NHWC", "HWIO", "NHWC"),
        precision=jax.lax.Precision.HIGHEST,
    )


# (height, width, in, out, k): narrow-to-wide, wide-to-narrow, equal, k = 1 and 5,
# non-square images (every branch of the forward and of both gradients).
SHAPES = [
    (5, 7, 3, 8, 3),
    (6, 4, 8, 3, 3),
    (4, 4, 5, 5, 3),
    (7, 5, 2, 6, 5),
    (6, 6, 9, 4, 5),
    (3, 3, 4, 4, 1),
    (1, 1, 3, 2, 3),
]


@pytest.mark.parametrize("shape", SHAPES, ids=str)
def test_value_and_gradients_match_xla_convolution(shape):
    height, width, c_in, c_out, k = shape
    keys = jax.random.split(jax.random.PRNGKey(sum(shape)), 3)
    x = jax.random.normal(keys[0], (2, height, width, c_in), jnp.float64)
    kernel = jax.random.normal(keys[1], (k, k, c_in, c_out), jnp.float64)
    dy = jax.random.normal(keys[2], (2, height, width, c_out), jnp.float64)
    y, vjp = jax.vjp(gemm_conv.conv, x, kernel)
    y_ref, vjp_ref = jax.vjp(_reference, x, kernel)
    np.testing.assert_allclose(y, y_ref, rtol=1e-12, atol=1e-12)
    for got, want in zip(vjp(dy), vjp_ref(dy)):
        np.testing.assert_allclose(got, want, rtol=1e-12, atol=1e-12)


def test_reverse_over_reverse_matches_xla_convolution():
    """The hand-written VJP is plain jnp, so grad of grad is exact too."""
    x = jax.random.normal(jax.random.PRNGKey(0), (2, 4, 5, 3), jnp.float64)
    kernel = jax.random.normal(jax.random.PRNGKey(1), (3, 3, 3, 2), jnp.float64)

    def second(conv):
        inner = jax.grad(lambda k, x: jnp.sum(jnp.sin(conv(x, k))), argnums=(0, 1))
        return jax.grad(lambda k: sum(jnp.sum(g**2) for g in inner(k, x)))(kernel)

    np.testing.assert_allclose(
        second(gemm_conv.conv), second(_reference), rtol=1e-10, atol=1e-12
    )


def test_forward_mode_is_refused_loudly_and_disabled_restores_it():
    """A wide conv_net on the CPU: jacfwd raises (no silent zeros); inside
    `disabled()` it runs on XLA's convolution and matches the reverse-mode Jacobian."""
    params = conv_net.init(
        jax.random.PRNGKey(0), 2, 3, hidden_channels=64, dtype=jnp.float64
    )
    params = params._replace(w3=0.1 * jnp.ones_like(params.w3))
    x = jax.random.normal(jax.random.PRNGKey(1), (1, 3, 3, 2), jnp.float64)

    def f(x):
        return conv_net.apply(params, x)

    if gemm_conv.preferred(2, 64):
        with pytest.raises(TypeError, match="forward-mode"):
            jax.jacfwd(f)(x)
    with gemm_conv.disabled():
        assert not gemm_conv.preferred(2, 64)
        forward = jax.jacfwd(f)(x)
    assert gemm_conv.preferred(2, 64) == (jax.default_backend() == "cpu")
    np.testing.assert_allclose(forward, jax.jacrev(f)(x), rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize(
    "x_shape, kernel_shape",
    [
        ((4, 4, 2), (3, 3, 2, 3)),
        ((1, 4, 4, 2), (2, 2, 2, 3)),
        ((1, 4, 4, 2), (3, 3, 5, 3)),
    ],
)
def test_bad_shapes_raise(x_shape, kernel_shape):
    with pytest.raises(ValueError, match="gemm_conv"):
        gemm_conv.conv(jnp.ones(x_shape), jnp.ones(kernel_shape))


def test_conv_net_gradient_matches_the_xla_route():
    """conv_net (which uses this form on the CPU) against the same network on XLA's
    convolutions, gradients with respect to parameters and input."""
    params = conv_net.init(jax.random.PRNGKey(0), 3, 6, hidden_channels=8)
    params = params._replace(w3=0.1 * jnp.ones_like(params.w3))
    params = jax.tree_util.tree_map(lambda p: p.astype(jnp.float64), params)
    x = jax.random.normal(jax.random.PRNGKey(1), (2, 5, 5, 3), jnp.float64)

    def reference(p, x):
        h = jax.nn.relu(_reference(x, p.w1) + p.b1)
        h = jax.nn.relu(_reference(h, p.w2) + p.b2)
        return _reference(h, p.w3) + p.b3

    def loss(apply):
        return lambda p, x: jnp.sum(jnp.sin(apply(p, x)))

    got = jax.grad(loss(conv_net.apply), argnums=(0, 1))(params, x)
    want = jax.grad(loss(reference), argnums=(0, 1))(params, x)
    for a, b in zip(jax.tree_util.tree_leaves(got), jax.tree_util.tree_leaves(want)):
        np.testing.assert_allclose(a, b, rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("anchor", [(2, 2), (1, 1), (2, 1)])
def test_causal_convolution_in_a_loop_takes_the_gemm_form(anchor):
    """Inside `looped()` (a loop body) the causal convolution of CInC / emerging
    is the GEMM form on the CPU: same values and gradients as XLA's convolution."""
    from jinvnet.ops import _causal_conv

    with jax.enable_x64(True):
        x = jax.random.normal(jax.random.PRNGKey(0), (2, 6, 5, 12), jnp.float64)
        k = jax.random.normal(jax.random.PRNGKey(1), (3, 3, 12, 7), jnp.float64)

        def loss(k, x):
            return jnp.sum(jnp.sin(_causal_conv.conv(k, x, anchor)))

        def traced(fn):  # a new function each time: JAX caches traces by function
            return jax.make_jaxpr(lambda *a: fn(*a))(k, x)

        reference = jax.value_and_grad(loss, argnums=(0, 1))(k, x)
        with gemm_conv.looped():
            program = str(traced(loss))
            looped = jax.value_and_grad(lambda *a: loss(*a), argnums=(0, 1))(k, x)
        on_cpu = jax.default_backend() == "cpu"
        assert ("custom_vjp" in program) == on_cpu
        assert ("conv_general_dilated" in program) == (not on_cpu)
        for a, b in zip(
            jax.tree_util.tree_leaves(looped), jax.tree_util.tree_leaves(reference)
        ):
            np.testing.assert_allclose(a, b, rtol=1e-12, atol=1e-12)
        assert "custom_vjp" not in str(traced(loss))  # outside loops: XLA's
        with gemm_conv.looped(), gemm_conv.disabled():  # disabled() wins
            assert not gemm_conv.preferred(12, 7) and not gemm_conv.in_loop()
            assert "custom_vjp" not in str(traced(loss))
