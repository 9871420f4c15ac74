"""`models._initial.initial_value`: one joint draw at init, one abstract trace at
apply (Flax shape-checks every parameter against its initialiser)."""

import flax
import flax.linen as nn
import jax
import jax.numpy as jnp
import numpy as np
import pytest

from jinvnet.models._initial import initial_value

_DRAWS = []  # one entry per call of `make`, traced or not


class _Pair(nn.Module):
    """Two parameters from one draw of `make` (as the LU factors of one matrix)."""

    size: int = 3

    @nn.compact
    def __call__(self, x):
        def make(key):
            _DRAWS.append(key)
            draw = jax.random.normal(key, (2, self.size))
            return draw[0], draw[1]

        start = initial_value(self, make)
        a = self.param("a", lambda key: start(key)[0])
        b = self.param("b", lambda key: start(key)[1])
        return x * a + b


def test_one_draw_at_init_and_one_trace_at_apply():
    _DRAWS.clear()
    x = jnp.ones(3)
    variables = _Pair().init(jax.random.PRNGKey(0), x)
    assert len(_DRAWS) == 1
    draw = jax.random.normal(_DRAWS[0], (2, 3))  # the joint draw, both halves
    np.testing.assert_array_equal(variables["params"]["a"], draw[0])
    np.testing.assert_array_equal(variables["params"]["b"], draw[1])
    _DRAWS.clear()
    y = _Pair().apply(variables, x)
    assert len(_DRAWS) == 1  # before: once per parameter
    np.testing.assert_allclose(y, draw[0] + draw[1], rtol=1e-6)


def test_apply_still_checks_shapes():
    variables = _Pair().init(jax.random.PRNGKey(0), jnp.ones(3))
    with pytest.raises(flax.errors.ScopeParamShapeError):
        _Pair(size=4).apply(variables, jnp.ones(4))
