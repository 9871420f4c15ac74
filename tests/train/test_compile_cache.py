"""`train.compile_cache`: JAX's persistent cache, checked by JAX's own hit events in
a second process (the command line's switch: tests/train/test_main.py)."""

import json
import os
import subprocess
import sys
import textwrap

import jax

from jinvnet.train import compile_cache

# Compiles one program with the cache in argv[1] (every compile cached, however
# short), and prints how many times JAX read a compiled program back from disk
# (its '/jax/compilation_cache/cache_hits' event) and the program's result.
_COMPILE = textwrap.dedent(
    """
    import json, sys
    import jax, jax.numpy as jnp
    from jinvnet.train import compile_cache
    hits = []
    jax.monitoring.register_event_listener(
        lambda event, **kwargs: hits.append(event)
        if event == "/jax/compilation_cache/cache_hits" else None)
    jax.config.update("jax_persistent_cache_min_compile_time_secs", 0)
    directory = compile_cache.enable(sys.argv[1])
    x = jnp.linspace(-3.0, 3.0, 1000)
    y = jax.jit(lambda x: jnp.tanh(x) @ jnp.sin(3.0 * x) + jnp.cumsum(x)[-7])(x)
    print(json.dumps({"hits": len(hits), "y": float(y), "dir": directory}))
    """
)


def _run(directory: str) -> dict:
    env = {k: v for k, v in os.environ.items() if k != compile_cache.VARIABLE}
    result = subprocess.run(
        [sys.executable, "-c", _COMPILE, directory],
        capture_output=True,
        text=True,
        check=True,
        env=env,
    )
    return json.loads(result.stdout.strip().splitlines()[-1])


def test_default_directory_follows_xdg():
    assert compile_cache.default_directory({"XDG_CACHE_HOME": "/c", "HOME": "/h"}) == (
        "/c/jinvnet/xla"
    )
    assert compile_cache.default_directory({"HOME": "/h"}) == "/h/.cache/jinvnet/xla"


def test_a_second_process_reads_the_compiled_program_back(tmp_path):
    directory = str(tmp_path / "made" / "by_enable")
    first = _run(directory)
    assert first["hits"] == 0 and first["dir"] == directory
    assert os.listdir(directory), "nothing was written to the cache"
    second = _run(directory)
    assert second["hits"] >= 1
    assert second["y"] == first["y"]  # the same program, bit for bit


def test_the_users_directory_wins(monkeypatch, tmp_path):
    """JAX's setting first (the test suite sets one), then the variable."""
    previous = jax.config.jax_compilation_cache_dir
    try:
        jax.config.update("jax_compilation_cache_dir", None)
        monkeypatch.setenv(compile_cache.VARIABLE, str(tmp_path / "mine"))
        assert compile_cache.chosen() == str(tmp_path / "mine")
        monkeypatch.delenv(compile_cache.VARIABLE)
        assert compile_cache.chosen() is None
        jax.config.update("jax_compilation_cache_dir", str(tmp_path / "set"))
        assert compile_cache.chosen() == str(tmp_path / "set")
    finally:
        jax.config.update("jax_compilation_cache_dir", previous)
