"""Seed flows train and sample without hanging (../shared/TESTING.md, "Hangs").

Each model runs in `tests.hang_probe` in a subprocess with a timeout, limited to
the two threads of a 2-core machine, where jaxlib 0.10.2's batched LAPACK LUs
deadlocked XLA:CPU's intra-op pool in the FFT flow's first gradient step.
"""

import os
import subprocess

import pytest

from tests import processes

pytestmark = pytest.mark.slow  # end to end; see docs/testing.md

# About 25 s on an idle 2-core machine; a hang is the only way to reach this.
TIMEOUT_S = 300


def _two_cores() -> None:
    """XLA sizes its CPU pool from the affinity: the 2 threads of the deadlock."""
    os.sched_setaffinity(0, sorted(os.sched_getaffinity(0))[:2])


def _probe(model: str, *args: str) -> subprocess.CompletedProcess:
    env = dict(os.environ, JAX_PLATFORMS="cpu")
    return processes.run_module(
        "tests.hang_probe",
        [model, *args],
        timeout=TIMEOUT_S,
        env=env,
        preexec_fn=_two_cores,
    )


@pytest.mark.parametrize("model", ["iconvnet_flow", "glow_dense"])
def test_trains_50_steps_and_samples_without_hanging(model):
    result = _probe(model, "--steps", "50", "--samples", "10")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "trained 50 steps" in result.stdout
    assert "drew 10 batches" in result.stdout
