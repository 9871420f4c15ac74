"""Shared fixtures: precision contexts and tolerances."""

import jax
import jax.numpy as jnp
import pytest


def pytest_addoption(parser):
    parser.addoption(
        "--runslow", action="store_true", default=False, help="run tests marked slow"
    )


def pytest_collection_modifyitems(config, items):
    if config.getoption("--runslow"):
        return
    skip_slow = pytest.mark.skip(reason="slow; run with --runslow")
    for item in items:
        if "slow" in item.keywords:
            item.add_marker(skip_slow)


@pytest.fixture(params=["float32", "float64"])
def dtype(request):
    """Runs the test once in float32 and once with jax_enable_x64 in float64."""
    with jax.enable_x64(request.param == "float64"):
        yield jnp.dtype(request.param)


def tolerance(dtype, f32: float, f64: float) -> float:
    """Picks the tolerance for the precision under test."""
    return f64 if jnp.dtype(dtype) == jnp.float64 else f32
