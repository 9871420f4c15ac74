"""Test-session setting for every test and doctest: skip XLA's expensive passes.

The suite is bound by compilation (hundreds of tiny programs, each compiled once or
twice), and XLA's optimisation passes took longer than they saved: the slowest
experiment smoke tests ran 1.8x faster without them. Semantics are unchanged (the
same HLO runs, unfused), so every numerical check still applies. The library,
experiments and benchmarks run fully optimised; to run the tests that way too, set
JAX_DISABLE_MOST_OPTIMIZATIONS=0. The environment variable also reaches the
subprocesses that some tests start.
"""

import os

os.environ.setdefault("JAX_DISABLE_MOST_OPTIMIZATIONS", "1")

import jax  # noqa: E402

jax.config.update(
    "jax_disable_most_optimizations",
    os.environ["JAX_DISABLE_MOST_OPTIMIZATIONS"].lower() in ("1", "true"),
)
