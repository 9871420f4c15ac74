"""The worked example of docs/extending.md runs as written, and is right."""

import pathlib
import re

import jax
import jax.numpy as jnp
import numpy as np

GUIDE = pathlib.Path(__file__).resolve().parent.parent / "docs" / "extending.md"


def test_extending_guide_runs_and_its_layer_is_a_reflection():
    blocks = re.findall(r"```python\n(.*?)```", GUIDE.read_text(), re.S)
    assert len(blocks) >= 6, "the guide lost its code blocks"
    namespace: dict = {"__name__": "extending_guide"}
    for block in blocks:
        exec(compile(block, str(GUIDE), "exec"), namespace)  # noqa: S102
    # Independent reference: H = I - 2 v v^T / v^T v applied with numpy.
    params = namespace["householder"].init(jax.random.PRNGKey(3), 3)
    v = np.asarray(params.v, np.float64)
    h = np.eye(3) - 2 * np.outer(v, v) / v.dot(v)
    x = np.asarray(jax.random.normal(jax.random.PRNGKey(4), (2, 4, 4, 3)))
    bijector = namespace["Householder"](params)
    y, log_det = bijector.forward_and_log_det(jnp.asarray(x))
    np.testing.assert_allclose(y, x @ h.T, rtol=1e-5, atol=1e-6)
    np.testing.assert_array_equal(log_det, 0.0)
    assert abs(np.linalg.det(h) + 1) < 1e-12  # a reflection: |det| = 1
    np.testing.assert_allclose(bijector.inverse(y), x, atol=1e-5)
    assert namespace["log_prob"].shape == (2,)
