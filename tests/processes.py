"""Tests that start Python processes: a hang fails the test instead of the suite."""

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def run_module(
    module: str, args: list[str], *, timeout: float, **kwargs
) -> subprocess.CompletedProcess:
    """`python -m MODULE ARGS` from the repository root, output captured as text.

    The child inherits the environment (the root conftest's XLA settings and
    compilation cache included) unless `env=` says otherwise; `kwargs` go to
    `subprocess.run`.

    Raises:
      pytest.fail.Exception: the process did not exit within `timeout` seconds
        (a hang, see ../shared/TESTING.md), with the end of its output.
    """
    try:
        return subprocess.run(
            [sys.executable, "-m", module, *args],
            cwd=ROOT,
            capture_output=True,
            text=True,
            timeout=timeout,
            **kwargs,
        )
    except subprocess.TimeoutExpired as error:
        output = (error.stdout or "") + (error.stderr or "")
        if isinstance(output, bytes):
            output = output.decode(errors="replace")
        pytest.fail(
            f"python -m {module} did not exit within {timeout} s (a hang?); "
            f"its output ends with:\n{output[-2000:]}"
        )
