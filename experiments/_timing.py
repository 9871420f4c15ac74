"""Side-by-side wall-clock timing shared by the benchmark scripts.

Every benchmark compares paths measured in one process: each round calls every
path once (interleaved), so a slow spell of the machine hits all paths alike, and
the summary is the median over rounds. On the 2-core dev VM the minimum of
millisecond-scale calls jumped by 2x between runs of the same code; the median of
interleaved rounds did not.
"""

import time
from typing import Any, Callable, Mapping

import jax
import numpy as np


def interleaved(
    fns: Mapping[str, Callable[[], Any]], repeats: int, warmup: int = 1
) -> tuple[dict[str, np.ndarray], dict[str, Any]]:
    """Wall seconds of `repeats` calls of each zero-argument fn, interleaved.

    Args:
      fns: name -> fn(); each result is waited for with `jax.block_until_ready`.
      repeats: timed rounds; each round calls every fn once, in order.
      warmup: untimed rounds first (compilation, caches).

    Returns:
      (name -> array of `repeats` wall times in seconds, name -> the result of
      its last call), so callers can check results without computing them again.
    """
    results = {}
    for _ in range(warmup):
        for name, fn in fns.items():
            results[name] = jax.block_until_ready(fn())
    times = {name: [] for name in fns}
    for _ in range(repeats):
        for name, fn in fns.items():
            start = time.perf_counter()
            results[name] = jax.block_until_ready(fn())
            times[name].append(time.perf_counter() - start)
    return {name: np.asarray(values) for name, values in times.items()}, results


def interleaved_median_ms(
    fns: Mapping[str, Callable[..., Any]], *args: Any, repeats: int
) -> dict[str, float]:
    """Median wall time in ms of each `fn(*args)`, interleaved, after a warm-up."""
    seconds, _ = interleaved(
        {name: (lambda fn=fn: fn(*args)) for name, fn in fns.items()}, repeats
    )
    return {name: 1e3 * float(np.median(s)) for name, s in seconds.items()}
