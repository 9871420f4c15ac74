"""Every product inside an invertible linear op runs at full float32 precision.

On GPUs with tensor cores, XLA's default precision for a float32 `dot_general` or
convolution is TF32 (a 10-bit mantissa): a layer's forward and its inverse then
agree only to ~1e-3, and an L3 D32 flow's round trip drifted to 3e-2 (Glow) and
1.7e-1 (emerging) on an H200, MintNet's fixed point stalled at 1e-3
(docs/benchmarks.md, "Accelerator check"). The ops therefore ask for
`Precision.HIGHEST` in every product of their forward, inverse and log-det; the
CPU ignores the flag, so this test reads it off the traced programs (every
`dot_general` and `conv_general_dilated`, in every nested jaxpr) instead of
measuring a GPU round trip.
"""

import jax
import jax.extend.core as jax_core
import jax.numpy as jnp
import pytest
from jax import lax

from jinvnet import ops
from jinvnet.ops import small_linalg

KEY = jax.random.PRNGKey(0)
PRODUCTS = ("dot_general", "conv_general_dilated")
X = jax.random.normal(jax.random.PRNGKey(1), (2, 4, 4, 4))


def _products(jaxpr: jax_core.Jaxpr):
    """The product equations of a jaxpr and of every jaxpr nested in it."""
    for eqn in jaxpr.eqns:
        if eqn.primitive.name in PRODUCTS:
            yield eqn
        for value in eqn.params.values():
            for sub in value if isinstance(value, (tuple, list)) else (value,):
                if isinstance(sub, jax_core.ClosedJaxpr):
                    yield from _products(sub.jaxpr)
                elif isinstance(sub, jax_core.Jaxpr):
                    yield from _products(sub)


def _low_precision(fn, *args) -> list[str]:
    eqns = list(_products(jax.make_jaxpr(fn)(*args).jaxpr))
    assert eqns, "the traced program holds no product: the walk found nothing"
    highest = (lax.Precision.HIGHEST, lax.Precision.HIGHEST)
    return [
        f"{e.primitive.name} precision={e.params['precision']}"
        for e in eqns
        if e.params["precision"] != highest
    ]


def _cases():
    conv1x1 = ops.conv1x1.init(KEY, 4)
    lu = ops.conv1x1_lu.init(KEY, 4)
    fft = ops.fft_conv.init(KEY, 4)
    cinc = ops.cinc.init(KEY, 4)
    emerging = ops.emerging.init(KEY, 4)
    mint = ops.mint.init(KEY, 4)
    yield "conv1x1.forward", lambda x: ops.conv1x1.forward(conv1x1, x)
    yield "conv1x1.inverse", lambda x: ops.conv1x1.inverse(conv1x1, x)
    yield "conv1x1_lu.forward", lambda x: ops.conv1x1_lu.forward(lu, x)
    yield "conv1x1_lu.inverse", lambda x: ops.conv1x1_lu.inverse(lu, x)
    for method in ("complex", "lifting", "rfft"):
        yield (
            f"fft_conv.forward[{method}]",
            lambda x, m=method: ops.fft_conv.forward(fft, x, log_det_method=m),
        )
    yield "fft_conv.inverse", lambda x: ops.fft_conv.inverse(fft, x)
    yield "cinc.forward", lambda x: ops.cinc.forward(cinc, x)
    for method in ops.cinc.METHODS:
        yield (
            f"cinc.inverse[{method}]",
            lambda x, m=method: ops.cinc.inverse(cinc, x, method=m),
        )
    yield "emerging.forward", lambda x: ops.emerging.forward(emerging, x)
    for method in ops.emerging.METHODS:
        yield (
            f"emerging.inverse[{method}]",
            lambda x, m=method: ops.emerging.inverse(emerging, x, method=m),
        )
    yield "mint.forward", lambda x: ops.mint.forward(mint, x)
    yield "mint.inverse", lambda x: ops.mint.inverse(mint, x)
    yield (
        "mint.inverse[anderson]",
        lambda x: ops.mint.inverse(mint, x, anderson_memory=3),
    )
    yield "iavgpool.forward", ops.iavgpool.forward
    yield "iavgpool.inverse", ops.iavgpool.inverse


CASES = dict(_cases())


@pytest.mark.parametrize("name", list(CASES))
def test_products_run_at_highest_precision(name):
    assert _low_precision(CASES[name], X) == []


@pytest.mark.parametrize("name", ["cinc.forward", "mint.inverse", "conv1x1.inverse"])
def test_gradients_run_at_highest_precision(name):
    """The backward pass of an op inherits the flag (transposed products)."""

    def loss(x):
        y, log_det = CASES[name](x)
        return jnp.sum(y**2) + jnp.sum(log_det)

    assert _low_precision(jax.grad(loss), X) == []


def test_small_linalg_derivative_runs_at_highest_precision():
    a = jnp.eye(4)[None] + 0.1 * jax.random.normal(KEY, (3, 4, 4))
    jvp = lambda a: jax.jvp(small_linalg.inv_and_log_abs_det, (a,), (a,))  # noqa: E731
    assert _low_precision(jvp, a) == []


def test_the_check_sees_a_default_precision_product():
    """The walk finds a default-precision product nested inside a scan."""

    def body(carry, _):
        return carry @ carry, None

    assert _low_precision(lambda x: lax.scan(body, x, None, length=2)[0], X[0, 0])
