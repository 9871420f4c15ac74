"""The suite's persistent XLA cache (root conftest.py): on, and results unchanged."""

import os
import subprocess
import sys
from pathlib import Path

import jax
import numpy as np
import pytest

ROOT = Path(__file__).resolve().parents[1]

# A flow's gradient: enough operations that XLA has something to compile.
_PROGRAM = """
import sys
import jax, jax.numpy as jnp, numpy as np
from jinvnet import models
model = models.FlowDensity(models.single_scale_glow(num_steps=2, hidden_channels=8))
x = jax.random.uniform(jax.random.PRNGKey(0), (4, 8, 8, 1))
variables = model.init(jax.random.PRNGKey(1), x)
def loss(params):
    return -model.apply({**variables, "params": params}, x).log_prob(x).mean()
grad = jax.jit(jax.grad(loss))(variables["params"])
np.save(sys.argv[1], np.concatenate([np.ravel(g) for g in jax.tree.leaves(grad)]))
"""


def _run(cache_dir, output):
    env = dict(os.environ, JAX_COMPILATION_CACHE_DIR=str(cache_dir))
    result = subprocess.run(
        [sys.executable, "-c", _PROGRAM, str(output)],
        cwd=ROOT,
        env=env,
        timeout=300,
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stderr
    assert "persistent compilation cache" not in result.stderr, result.stderr
    return np.load(output)


def test_suite_runs_with_the_persistent_cache():
    cache_dir = os.environ["JAX_COMPILATION_CACHE_DIR"]
    assert jax.config.jax_compilation_cache_dir == cache_dir
    assert jax.config.jax_persistent_cache_min_compile_time_secs == 0


@pytest.mark.slow  # two fresh processes
def test_cold_and_warm_cache_give_identical_results(tmp_path):
    cache = tmp_path / "cache"
    cold = _run(cache, tmp_path / "cold.npy")
    entries = list(cache.iterdir())
    assert entries, "the cold run wrote nothing to the cache"
    warm = _run(cache, tmp_path / "warm.npy")
    assert sorted(cache.iterdir()) == sorted(entries)  # all hits, nothing new
    np.testing.assert_array_equal(warm, cold)
    assert np.isfinite(cold).all() and np.abs(cold).max() > 0
