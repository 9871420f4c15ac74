"""Scanned flow steps (issue 16 item 3): the same function as written-out steps."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from jinvnet import models
from jinvnet.models import multiscale
from jinvnet.models.scanned_steps import ScannedSteps
from jinvnet.ops import reversible_stack
from tests.contract import perturb


def _stack_steps(tree, depth):
    """The written-out layout (step0..step{D-1} per level) as the scanned one."""
    if not isinstance(tree, dict):
        return tree
    if "step0" in tree:
        steps = [tree[f"step{d}"] for d in range(depth)]
        rest = {k: v for k, v in tree.items() if not k.startswith("step")}
        stacked = jax.tree_util.tree_map(lambda *v: jnp.stack(v), *steps)
        return {**_stack_steps(rest, depth), "steps": {"steps": stacked}}
    return {k: _stack_steps(v, depth) for k, v in tree.items()}


def _pair(conv, coupling="affine", depth=3, dtype=jnp.float64):
    """Written-out and scanned flows with the same (perturbed) parameters."""
    kwargs = dict(
        num_levels=2,
        steps_per_level=depth,
        hidden_channels=8,
        conv=conv,
        coupling=coupling,
        inverse_method="scan" if conv == "cinc" else "fast",
    )
    x = jax.random.uniform(jax.random.PRNGKey(0), (3, 8, 8, 2), dtype) - 0.5
    written = models.MultiScaleFlow(**kwargs, scan_steps=False)
    variables = written.init(jax.random.PRNGKey(1), x)
    variables = {
        **variables,
        "params": perturb(variables["params"], jax.random.PRNGKey(2), 0.05),
    }
    scanned = models.MultiScaleFlow(**kwargs, scan_steps=True)
    stacked = {c: _stack_steps(t, depth) for c, t in variables.items()}
    return x, written, variables, scanned, stacked


@pytest.mark.parametrize("conv, coupling", [("1x1", "affine"), ("cinc", "quad")])
def test_scanned_flow_is_the_written_out_flow(conv, coupling):
    with jax.enable_x64(True):
        x, written, variables, scanned, stacked = _pair(conv, coupling)
        layout = jax.eval_shape(scanned.init, jax.random.PRNGKey(1), x)
        assert jax.tree_util.tree_structure(layout) == jax.tree_util.tree_structure(
            stacked
        )
        f, g = written.apply(variables, x), scanned.apply(stacked, x)
        y, log_det = f.forward_and_log_det(x)
        y_scan, log_det_scan = g.forward_and_log_det(x)
        np.testing.assert_allclose(y_scan, y, rtol=0, atol=1e-12)
        np.testing.assert_allclose(log_det_scan, log_det, rtol=1e-12)
        x_back, inverse_log_det = g.inverse_and_log_det(y)
        np.testing.assert_allclose(x_back, x, rtol=0, atol=1e-10)
        np.testing.assert_allclose(inverse_log_det, -log_det, rtol=1e-12)


def test_gradients_match_and_unroll_changes_nothing():
    with jax.enable_x64(True):
        x, written, variables, scanned, stacked = _pair("1x1", depth=4)

        def loss(flow):
            def of(params, constants):
                v = {**constants, "params": params}
                return (
                    flow.apply(v, x).forward_and_log_det(x)[1].sum()
                    + (flow.apply(v, x).forward(x) ** 2).sum()
                )

            return of

        constants = {c: t for c, t in variables.items() if c != "params"}
        stacked_constants = {c: t for c, t in stacked.items() if c != "params"}
        grad = jax.grad(loss(written))(variables["params"], constants)
        grad_scan = jax.grad(loss(scanned))(stacked["params"], stacked_constants)
        expected = _stack_steps(grad, 4)
        for a, b in zip(
            jax.tree_util.tree_leaves(grad_scan), jax.tree_util.tree_leaves(expected)
        ):
            np.testing.assert_allclose(a, b, rtol=1e-10, atol=1e-12)
        for unroll in (2, 4):
            other = models.MultiScaleFlow(**{**_fields(scanned), "scan_unroll": unroll})
            np.testing.assert_allclose(
                other.apply(stacked, x).forward(x),
                scanned.apply(stacked, x).forward(x),
                rtol=0,
                atol=1e-12,
            )


def _fields(flow):
    names = (
        "num_levels",
        "steps_per_level",
        "conv",
        "coupling",
        "hidden_channels",
        "inverse_method",
        "scan_steps",
    )
    return {n: getattr(flow, n) for n in names}


def test_init_starts_each_actnorm_on_its_own_input():
    """Data-dependent init as written-out steps do: step d's ActNorm whitens the
    output of step d - 1 on the init batch."""
    x = 2.0 + jax.random.normal(jax.random.PRNGKey(0), (64, 4, 4, 2))
    make = lambda: models.glow_step(hidden_channels=8)  # noqa: E731
    steps = ScannedSteps(make, 3)
    variables = steps.init(jax.random.PRNGKey(1), x)
    template = make()
    h = x
    for d in range(3):
        step = jax.tree_util.tree_map(lambda v, d=d: v[d], variables)
        step = {c: tree["steps"] for c, tree in step.items()}
        actnorm = models.ActNorm().apply({"params": step["params"]["layers_0"]}, h)
        normalised = actnorm.forward(h)
        np.testing.assert_allclose(normalised.mean((0, 1, 2)), 0.0, atol=1e-5)
        np.testing.assert_allclose(normalised.std((0, 1, 2)), 1.0, atol=1e-4)
        h = template.apply(step, h).forward(h)


def test_each_level_is_traced_once_per_log_prob(monkeypatch):
    """Building the density asks each layer's output shape; the scanned levels keep
    their shape, so they are not traced for it (`bijectors.forward_shape`): one
    trace per level, not four or five (issue 16 item 3)."""
    traced = []
    forward = reversible_stack.forward

    def counting(block, params, x, **options):
        traced.append(x.shape[1:])
        return forward(block, params, x, **options)

    monkeypatch.setattr(reversible_stack, "forward", counting)
    flow = models.FlowDensity(
        multiscale.glow(num_levels=3, steps_per_level=2, hidden_channels=8)
    )
    x = jax.random.uniform(jax.random.PRNGKey(0), (2, 8, 8, 1)) - 0.5
    variables = flow.init(jax.random.PRNGKey(1), x)
    traced.clear()
    jax.make_jaxpr(lambda v: flow.apply(v, x).log_prob(x))(variables)
    assert traced == [(4, 4, 4), (2, 2, 8), (1, 1, 16)]


def test_free_parameter_count_is_the_written_out_one():
    x = jax.ShapeDtypeStruct((2, 8, 8, 3), jnp.float32)
    counts = [
        models.free_param_count(
            multiscale.cinc(
                num_levels=2, steps_per_level=3, hidden_channels=8, scan_steps=scan
            ),
            x,
        )
        for scan in (False, True)
    ]
    assert counts[0] == counts[1]


@pytest.mark.parametrize("field, value", [("scan_unroll", 0), ("scan_steps", 1)])
def test_bad_scan_options_raise(field, value):
    flow = models.MultiScaleFlow(
        num_levels=1, steps_per_level=2, hidden_channels=8, **{field: value}
    )
    with pytest.raises(ValueError, match=field):
        flow.init(jax.random.PRNGKey(0), jnp.zeros((1, 4, 4, 1)))


def test_stack_steps_is_the_scanned_layout_and_unstack_inverts_it():
    _, _, variables, scanned, stacked = _pair("1x1", depth=3, dtype=jnp.float32)
    ours = models.stack_steps(variables)
    assert jax.tree_util.tree_structure(ours) == jax.tree_util.tree_structure(stacked)
    for a, b in zip(
        jax.tree_util.tree_leaves(ours), jax.tree_util.tree_leaves(stacked)
    ):
        np.testing.assert_array_equal(a, b)
    back = models.unstack_steps(ours)
    assert jax.tree_util.tree_structure(back) == jax.tree_util.tree_structure(variables)
    for a, b in zip(
        jax.tree_util.tree_leaves(back), jax.tree_util.tree_leaves(variables)
    ):
        np.testing.assert_array_equal(a, b)
    # Dicts inside other pytree nodes (optax's states) are converted too.
    pair = models.stack_steps((variables["params"], [variables["params"]]))
    assert "steps" in pair[1][0]["level0"] and "step0" not in pair[0]["level0"]


def test_stack_steps_refuses_what_is_not_the_written_out_layout():
    leaf = jnp.zeros(2)
    with pytest.raises(ValueError, match=r"steps \[0, 2\]"):
        models.stack_steps({"step0": {"w": leaf}, "step2": {"w": leaf}})
    with pytest.raises(ValueError, match="unequal lengths"):
        models.unstack_steps(
            {"steps": {"steps": {"a": jnp.zeros(2), "b": jnp.zeros(3)}}}
        )
