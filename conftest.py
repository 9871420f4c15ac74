"""Test-session settings for every test, doctest and test subprocess.

1. Skip XLA's expensive passes. The suite is bound by compilation (hundreds of
   tiny programs, each compiled once or twice), and XLA's optimisation passes took
   longer than they saved: the slowest experiment smoke tests ran 1.8x faster
   without them. Semantics are unchanged (the same HLO runs, unfused), so every
   numerical check still applies. The library, experiments and benchmarks run fully
   optimised; to run the tests that way too, set JAX_DISABLE_MOST_OPTIMIZATIONS=0.
2. One persistent XLA compilation cache for the whole run: the two xdist workers
   and the `python -m jinvnet.train` subprocesses that some tests start compile many
   of the same programs, and a rerun finds them all compiled. It lives in
   `.pytest_cache/jax_compilation_cache` (set JAX_COMPILATION_CACHE_DIR to move it;
   delete the folder for a cold run, as CI's fresh clone has). A cache hit returns
   the executable that the same HLO compiled to, so results do not depend on it
   (`tests/test_compilation_cache.py`).

3. Compile with XLA:CPU's classic LLVM emitters (`--xla_cpu_use_fusion_emitters=
   false` in XLA_FLAGS): on jaxlib 0.10.2 they compile the suite's small programs
   about 2x faster than the default MLIR fusion emitters (6-10 against 14-17 ms an
   eager op, 68-98 against 139-185 ms a small jitted program, measured with
   docs/testing.md's micro-benchmark). Same HLO and the same arithmetic; the tests'
   float32 tolerances already allow for a different order of rounding. Set
   JINVNET_TEST_FUSION_EMITTERS=1 to test with the default emitters.

All of it goes through environment variables, which the subprocesses inherit.

4. Every 10 tests, a worker that holds more than half the kernel's limit of memory
   mappings clears JAX's caches (`tests._jit_mappings`): each compiled program
   keeps its mappings while cached, and a worker past the limit crashes.
"""

import os
from pathlib import Path

_CACHE = Path(__file__).resolve().parent / ".pytest_cache" / "jax_compilation_cache"
os.environ.setdefault("JAX_DISABLE_MOST_OPTIMIZATIONS", "1")
os.environ.setdefault("JAX_COMPILATION_CACHE_DIR", str(_CACHE))
os.environ.setdefault("JAX_PERSISTENT_CACHE_MIN_COMPILE_TIME_SECS", "0")
if os.environ.get("JINVNET_TEST_FUSION_EMITTERS", "0") != "1":
    _FLAG = "--xla_cpu_use_fusion_emitters=false"
    if _FLAG not in os.environ.get("XLA_FLAGS", ""):
        os.environ["XLA_FLAGS"] = f"{os.environ.get('XLA_FLAGS', '')} {_FLAG}".strip()

import jax  # noqa: E402

jax.config.update(
    "jax_disable_most_optimizations",
    os.environ["JAX_DISABLE_MOST_OPTIMIZATIONS"].lower() in ("1", "true"),
)
jax.config.update("jax_compilation_cache_dir", os.environ["JAX_COMPILATION_CACHE_DIR"])
jax.config.update(
    "jax_persistent_cache_min_compile_time_secs",
    float(os.environ["JAX_PERSISTENT_CACHE_MIN_COMPILE_TIME_SECS"]),
)


_CHECK_EVERY = 10  # tests between two looks at the process's memory mappings
_tests_done = [0]


def pytest_runtest_teardown(item, nextitem):
    """Item 4 above: keeps the worker's memory mappings under the kernel's limit."""
    _tests_done[0] += 1
    if _tests_done[0] % _CHECK_EVERY == 0:
        from tests import _jit_mappings

        _jit_mappings.release_if_crowded()
