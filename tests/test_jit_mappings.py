"""`tests._jit_mappings`: compiled programs hold memory mappings until JAX's caches
are cleared; the suite's hook clears them before a worker nears the kernel's limit."""

import jax
import jax.numpy as jnp

from tests import _jit_mappings


def _compile_programs(count: int) -> None:
    for i in range(count):
        jax.jit(lambda x, i=i: jnp.sin(x) * i)(jnp.ones(i + 1)).block_until_ready()


def test_count_is_the_number_of_lines_of_proc_self_maps():
    with open("/proc/self/maps") as maps:
        lines = maps.read().splitlines()
    # Both reads are of the same process a moment apart: a thread may start.
    assert abs(_jit_mappings.count() - len(lines)) <= 8


def test_compiled_programs_keep_mappings_until_the_caches_are_released():
    _jit_mappings.release_if_crowded(fraction=0.0)  # start from empty caches
    before = _jit_mappings.count()
    _compile_programs(60)
    held = _jit_mappings.count()
    assert held - before >= 2 * 60  # about three per program (code, rodata, data)
    assert not _jit_mappings.release_if_crowded(fraction=1.0)  # far below the limit
    assert _jit_mappings.count() >= held - 8
    assert _jit_mappings.release_if_crowded(fraction=0.0)
    # The programs' mappings are gone (malloc may have mapped a little memory).
    assert held - _jit_mappings.count() >= 2 * 60


def test_limit_is_the_kernels_setting():
    with open("/proc/sys/vm/max_map_count") as f:
        assert _jit_mappings.limit() == int(f.read()) > 0


def test_without_proc_nothing_is_cleared(monkeypatch):
    def missing():
        raise FileNotFoundError("/proc/self/maps")

    monkeypatch.setattr(_jit_mappings, "count", missing)
    assert not _jit_mappings.release_if_crowded(fraction=0.0)
