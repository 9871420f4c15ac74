"""Keeps a test process's memory mappings under the kernel's limit.

Every program XLA:CPU compiles keeps about three memory mappings (its machine code,
read-only data and data) for as long as JAX's caches hold the executable, and the
suite compiles thousands of programs per xdist worker: a worker of the full suite
passed 23,000 mappings at 44% of the run (measured 2026-12-06). Linux refuses a
process more than `vm.max_map_count` mappings (65,530 by default); past it the
JIT's next `mmap` fails and the worker dies with a signal, not an error (CI,
2026-12-06: "worker 'gw0' crashed while running 'tests/ops/test_fft_conv.py::
test_log_det_gradient_matches_finite_differences[lifting]'", near the end of the
run; docs/testing.md, "Memory mappings", shows the crash under a lowered limit).

`release_if_crowded` empties JAX's caches (`jax.clear_caches`) when the process
holds more than half its limit, which unmaps the executables no test still holds.
A program needed again is compiled again, or read from the persistent compilation
cache; results do not change (`tests/test_compilation_cache.py`).
"""

import gc

import jax


def count() -> int:
    """The number of memory mappings of this process (lines of /proc/self/maps)."""
    with open("/proc/self/maps", "rb") as maps:
        return sum(1 for _ in maps)


def limit() -> int:
    """The kernel's limit on mappings per process (vm.max_map_count)."""
    with open("/proc/sys/vm/max_map_count") as f:
        return int(f.read())


def release_if_crowded(fraction: float = 0.5) -> bool:
    """Clears JAX's caches if this process holds more than `fraction` of its limit.

    Returns:
      Whether it cleared them; False where /proc does not say (not Linux).
    """
    try:
        crowded = count() > fraction * limit()
    except OSError:
        return False
    if not crowded:
        return False
    jax.clear_caches()
    gc.collect()
    return True
