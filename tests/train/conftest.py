"""Trainer tests build the same tiny programs many times: cache their compilation."""

import jax
import pytest


@pytest.fixture(scope="module", autouse=True)
def compilation_cache(tmp_path_factory):
    """A persistent XLA cache shared by this directory's tests, reset afterwards."""
    names = ("jax_compilation_cache_dir", "jax_persistent_cache_min_compile_time_secs")
    saved = {name: getattr(jax.config, name) for name in names}
    jax.config.update(
        "jax_compilation_cache_dir", str(tmp_path_factory.getbasetemp() / "xla")
    )
    jax.config.update("jax_persistent_cache_min_compile_time_secs", 0)
    yield
    for name, value in saved.items():
        jax.config.update(name, value)
