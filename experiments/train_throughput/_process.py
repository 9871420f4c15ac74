"""One `experiments.train_throughput.main` run in a process of its own.

Settings read at process start (glibc's tunables, the persistent compilation
cache's folder) need a new process per measurement; `huge_pages.py` and
`compile_cache.py` both take their step times from such runs.
"""

import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def run_main(flags: list[str], env: dict, output_dir: str) -> dict:
    """Runs `python -m experiments.train_throughput.main` with `flags` and `env`.

    Returns its results.json ({"config": ..., "rows": [...]}), written to
    `output_dir`. Raises `subprocess.CalledProcessError` if the run fails.
    """
    command = [sys.executable, "-m", "experiments.train_throughput.main", *flags]
    command.append(f"--output_dir={output_dir}")
    subprocess.run(command, check=True, cwd=ROOT, env=env, capture_output=True)
    with open(os.path.join(output_dir, "results.json")) as f:
        return json.load(f)
