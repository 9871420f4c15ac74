"""Runs the shared contract (tests/contract.py) on every registered bijector.

Numerical checks run per bijector in float32 and float64: round trips both ways,
log-det against slogdet of the dense `jax.jacfwd` Jacobian, inverse log-det,
gradients, dtypes and the distrax change of variables. Structural checks (composite
methods, jit == eager, vmap, batch independence, distrax Chain/Inverse) and the
bad-rank / bad-dtype errors run in float32.
"""

import functools
import inspect

import distrax
import jax
import jax.numpy as jnp
import numpy as np
import pytest

import jinvnet.bijectors
from tests import contract
from tests.conftest import roundoff, scale_of, tolerance

NAMES = sorted(contract.BIJECTORS)
BATCH = 2


def _setup(name, dtype, seed=0):
    case = contract.BIJECTORS[name]
    k_params, k_x = jax.random.split(jax.random.PRNGKey(seed))
    params = case.init(k_params, dtype)
    shape = (BATCH,) + case.event_shape
    if case.input_range is None:
        x = jax.random.normal(k_x, shape, dtype)
    else:
        x = jax.random.uniform(k_x, shape, dtype, *case.input_range)
    return case, params, case.build(params), x


@functools.lru_cache(maxsize=None)
def _compiled(name, dtype_name):
    """Jitted forward/inverse of a case, compiled once per process and precision.

    Most checks run through these so each case compiles a handful of programs
    instead of dispatching every primitive eagerly; `test_jit_matches_eager` and
    `test_composite_methods_agree` keep the eager path covered.
    """
    del dtype_name  # part of the cache key only
    build = contract.BIJECTORS[name].build
    forward = jax.jit(lambda p, v: build(p).forward_and_log_det(v))
    inverse = jax.jit(lambda p, v: build(p).inverse_and_log_det(v))
    return forward, inverse


def _fns(name, dtype, params):
    forward, inverse = _compiled(name, jnp.dtype(dtype).name)
    return (
        functools.partial(forward, params),
        functools.partial(inverse, params),
    )


def _round_trip_tol(case, dtype):
    return tolerance(dtype, case.round_trip_rtol_f32, 1e-10)


def _assert_close(actual, desired, rtol, scale=None):
    actual, desired = np.asarray(actual), np.asarray(desired)
    scale = scale_of(desired) if scale is None else scale
    np.testing.assert_allclose(actual, desired, rtol=rtol, atol=rtol * scale)


@pytest.mark.parametrize("name", NAMES)
def test_round_trip(name, dtype):
    case, params, _, x = _setup(name, dtype)
    forward, inverse = _fns(name, dtype, params)
    _assert_close(inverse(forward(x)[0])[0], x, _round_trip_tol(case, dtype))


@pytest.mark.parametrize("name", NAMES)
def test_reverse_round_trip(name, dtype):
    case, params, _, x = _setup(name, dtype)
    forward, inverse = _fns(name, dtype, params)
    z = jax.random.normal(jax.random.PRNGKey(7), forward(x)[0].shape, dtype)
    _assert_close(forward(inverse(z)[0])[0], z, _round_trip_tol(case, dtype))


@pytest.mark.parametrize("name", NAMES)
def test_log_det_matches_dense_jacobian(name, dtype):
    case, params, _, x = _setup(name, dtype)
    forward, _ = _fns(name, dtype, params)
    _, log_det = forward(x)

    @jax.jit
    def dense_jacobian(p, v):
        def flat_forward(u):
            return case.build(p).forward(u.reshape(x.shape[1:])).reshape(-1)

        return jax.jacfwd(flat_forward)(v.reshape(-1))

    for i in range(BATCH):
        jacobian = dense_jacobian(params, x[i])
        sign, expected = np.linalg.slogdet(np.asarray(jacobian, np.float64))
        assert sign != 0, f"{name}: dense Jacobian is singular at example {i}"
        _assert_close(log_det[i], expected, tolerance(dtype, 1e-4, 1e-9))


@pytest.mark.parametrize("name", NAMES)
def test_inverse_log_det_is_minus_forward(name, dtype):
    _, params, _, x = _setup(name, dtype)
    forward, inverse = _fns(name, dtype, params)
    y, forward_log_det = forward(x)
    _, inverse_log_det = inverse(y)
    _assert_close(inverse_log_det, -forward_log_det, tolerance(dtype, 1e-5, 1e-8))


@pytest.mark.parametrize("name", NAMES)
def test_composite_methods_agree(name):
    dtype = jnp.float32  # structural check; precision-specific ones run in both
    _, _, bij, x = _setup(name, dtype)
    y, log_det = bij.forward_and_log_det(x)
    np.testing.assert_array_equal(bij.forward(x), y)
    np.testing.assert_array_equal(bij.forward_log_det_jacobian(x), log_det)
    x_back, inverse_log_det = bij.inverse_and_log_det(y)
    np.testing.assert_array_equal(bij.inverse(y), x_back)
    np.testing.assert_array_equal(bij.inverse_log_det_jacobian(y), inverse_log_det)


@pytest.mark.parametrize("name", NAMES)
def test_jit_matches_eager(name):
    dtype = jnp.float32  # structural check; precision-specific ones run in both
    case, params, bij, x = _setup(name, dtype)
    jitted = jax.jit(lambda p, v: case.build(p).forward_and_log_det(v))
    y, log_det = bij.forward_and_log_det(x)
    y_jit, log_det_jit = jitted(params, x)
    rtol = tolerance(dtype, 1e-5, 1e-12)
    _assert_close(y_jit, y, rtol)
    _assert_close(log_det_jit, log_det, rtol)
    jitted_inverse = jax.jit(lambda p, v: case.build(p).inverse(v))
    _assert_close(jitted_inverse(params, y), bij.inverse(y), rtol)


@pytest.mark.parametrize("name", NAMES)
def test_vmap_matches_batch(name):
    dtype = jnp.float32  # structural check; precision-specific ones run in both
    case, params, _, x = _setup(name, dtype)
    forward, _ = _fns(name, dtype, params)
    y, log_det = forward(x)
    y_single, log_det_single = forward(x[0])
    assert log_det_single.shape == ()
    vmapped = jax.jit(jax.vmap(lambda v: case.build(params).forward_and_log_det(v)))
    y_vmap, log_det_vmap = vmapped(x)
    rtol = tolerance(dtype, 1e-5, 1e-12)
    _assert_close(y_vmap, y, rtol)
    _assert_close(log_det_vmap, log_det, rtol)
    _assert_close(y_single, y[0], rtol)
    _assert_close(log_det_single, log_det[0], rtol)


@pytest.mark.parametrize("name", NAMES)
def test_examples_do_not_interact(name):
    dtype = jnp.float32  # structural check; precision-specific ones run in both
    _, params, _, x = _setup(name, dtype)
    forward, _ = _fns(name, dtype, params)
    y, log_det = forward(x)
    y2, log_det2 = forward(x.at[1].set(10.0 * x[1] + 3.0))
    atol = roundoff(dtype, y[0], ulps=8)
    np.testing.assert_allclose(y2[0], y[0], rtol=0, atol=atol)
    atol = roundoff(dtype, log_det[0], ulps=8)
    np.testing.assert_allclose(log_det2[0], log_det[0], rtol=0, atol=atol)


def _float_leaves(params):
    return [
        leaf
        for leaf in jax.tree_util.tree_leaves(params)
        if jnp.issubdtype(leaf.dtype, jnp.floating)
    ]


@pytest.mark.parametrize("name", NAMES)
def test_gradients_are_finite(name, dtype):
    case, params, _, x = _setup(name, dtype)

    def loss(float_params, v):
        leaves, treedef = jax.tree_util.tree_flatten(params)
        it = iter(float_params)
        rebuilt = [
            next(it) if jnp.issubdtype(leaf.dtype, jnp.floating) else leaf
            for leaf in leaves
        ]
        bij = case.build(jax.tree_util.tree_unflatten(treedef, rebuilt))
        y, log_det = bij.forward_and_log_det(v)
        x_back = bij.inverse(y)
        return jnp.sum(y**2) - jnp.sum(log_det) + jnp.sum(x_back**2)

    grad_fn = jax.jit(jax.grad(loss, argnums=(0, 1)))
    grad_params, grad_x = grad_fn(_float_leaves(params), x)
    assert np.all(np.isfinite(grad_x)) and np.any(grad_x != 0)
    for g in grad_params:
        assert np.all(np.isfinite(g)), f"{name}: non-finite parameter gradient"
    if grad_params:
        assert any(np.any(g != 0) for g in grad_params), f"{name}: all grads zero"


@pytest.mark.parametrize("name", NAMES)
def test_dtype_and_shapes_preserved(name, dtype):
    _, params, _, x = _setup(name, dtype)
    forward, inverse = _fns(name, dtype, params)
    y, log_det = forward(x)
    assert y.dtype == dtype and log_det.dtype == dtype
    assert log_det.shape == (BATCH,) and y.size == x.size
    x_back, inverse_log_det = inverse(y)
    assert x_back.shape == x.shape and x_back.dtype == dtype
    assert inverse_log_det.shape == (BATCH,) and inverse_log_det.dtype == dtype


@pytest.mark.parametrize("name", NAMES)
def test_forward_shape_is_the_traced_shape(name, dtype):
    # `bijectors.forward_shape` skips tracing where a bijector says it keeps the
    # shape (`keeps_shape`): the claim must match what tracing gives.
    _, _, bij, x = _setup(name, dtype)
    y = jax.eval_shape(bij.forward, x)
    x_back = jax.eval_shape(bij.inverse, y)
    for b, v, expected in (
        (bij, x, y),
        (distrax.Chain([bij]), x, y),
        (distrax.Inverse(bij), y, x_back),
    ):
        shape = jinvnet.bijectors.forward_shape(b, v)
        assert (shape.shape, shape.dtype) == (expected.shape, expected.dtype), b
    if jinvnet.bijectors.keeps_shape(bij):
        assert (y.shape, y.dtype) == (x.shape, x.dtype)


@pytest.mark.parametrize("name", NAMES)
def test_transformed_log_prob_is_change_of_variables(name, dtype):
    case, params, _, x = _setup(name, dtype)
    forward, inverse = _fns(name, dtype, params)
    y = forward(x)[0]
    base = distrax.Independent(
        distrax.Normal(jnp.zeros(x.shape[1:], dtype), jnp.ones(x.shape[1:], dtype)), 3
    )
    log_prob = jax.jit(
        lambda p, v: distrax.Transformed(base, case.build(p)).log_prob(v)
    )(params, y)
    x_back, inverse_log_det = inverse(y)
    x_np = np.asarray(x_back, np.float64).reshape(BATCH, -1)
    base_log_prob = -0.5 * np.sum(x_np**2, 1) - 0.5 * x_np.shape[1] * np.log(2 * np.pi)
    expected = base_log_prob + np.asarray(inverse_log_det, np.float64)
    _assert_close(log_prob, expected, tolerance(dtype, 1e-5, 1e-10))


@pytest.mark.parametrize("name", NAMES)
def test_composes_with_distrax_chain_and_inverse(name):
    dtype = jnp.float32  # structural check; precision-specific ones run in both
    case, params, _, x = _setup(name, dtype)
    y, log_det = _fns(name, dtype, params)[0](x)

    @jax.jit
    def chained(p, v, w):
        b = case.build(p)
        identity = distrax.Chain([distrax.Inverse(b), b]).forward_and_log_det(v)
        return identity, distrax.Inverse(b).forward_and_log_det(w)

    (x_back, zero), (x_inv, inverse_log_det) = chained(params, x, y)
    rtol = tolerance(dtype, 1e-5, 1e-10)
    _assert_close(x_back, x, rtol)
    _assert_close(
        zero, np.zeros(BATCH), rtol, scale=max(1.0, float(np.abs(log_det).max()))
    )
    _assert_close(x_inv, x, rtol)
    _assert_close(inverse_log_det, -log_det, rtol)


@pytest.mark.parametrize("name", NAMES)
def test_rejects_wrong_rank_in_all_methods(name):
    _, _, bij, _ = _setup(name, jnp.float32)
    bad = jnp.ones((4, 4))
    for method in (
        bij.forward,
        bij.inverse,
        bij.forward_and_log_det,
        bij.inverse_and_log_det,
        bij.forward_log_det_jacobian,
        bij.inverse_log_det_jacobian,
    ):
        with pytest.raises(ValueError, match="dimensions"):
            method(bad)


@pytest.mark.parametrize("name", NAMES)
def test_rejects_integer_input(name):
    case, _, bij, _ = _setup(name, jnp.float32)
    with pytest.raises(ValueError, match="floating"):
        bij.forward(jnp.ones((BATCH,) + case.event_shape, jnp.int32))


@pytest.mark.parametrize("half", ["float16", "bfloat16"])
@pytest.mark.parametrize("name", NAMES)
def test_rejects_half_precision(name, half):
    """Half-precision inputs and parameters raise a ValueError naming the dtype.

    One policy for every op (`jinvnet._validation.check_dtype`), at trace time.
    """
    case, params, bij, x = _setup(name, jnp.float32)
    bad = x.astype(half)
    for method in (
        bij.forward,
        bij.inverse,
        bij.forward_and_log_det,
        bij.inverse_and_log_det,
        bij.forward_log_det_jacobian,
        bij.inverse_log_det_jacobian,
        jax.jit(bij.forward),
    ):
        with pytest.raises(ValueError, match=f"got dtype {half}: half precision"):
            method(bad)
    if _float_leaves(params):  # raised by the op's init or the bijector
        with pytest.raises(ValueError, match=f"got dtype {half}: half precision"):
            case.build(case.init(jax.random.PRNGKey(0), jnp.dtype(half))).forward(x)


def test_registry_covers_every_public_bijector():
    public = {
        obj
        for obj in vars(jinvnet.bijectors).values()
        if inspect.isclass(obj) and issubclass(obj, distrax.Bijector)
    }
    public = {cls for cls in public if cls.__name__ in jinvnet.bijectors.__all__}
    registered = {
        type(case.build(case.init(jax.random.PRNGKey(0), jnp.float32)))
        for case in contract.BIJECTORS.values()
    }
    missing = sorted(cls.__name__ for cls in public - registered)
    assert not missing, f"bijectors without a contract case: {missing}"
