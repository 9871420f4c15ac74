"""Measures the README main job as a new user runs it: wall clock, bits/dim, samples.

Runs `python -m jinvnet.train --config=<config>` in a fresh process (compilation,
training, evaluation, the 1,024-draw sample checks and figures all included),
then reports the test bits/dim next to the per-pixel categorical baseline that the
run prints, the wall time, and the non-finite / unstable sample counts per
temperature from its summary.json. Results: docs/results.md.

    python -m experiments.main_job.benchmark --output_dir /tmp/main_job
    python -m experiments.main_job.benchmark --smoke --output_dir /tmp/smoke
"""

import argparse
import json
import os
import platform
import subprocess
import sys
import time

from jinvnet.train import __main__ as cli

_SMOKE = [  # a few steps of a tiny flow on digits: the same path, in seconds
    "--config=digits_cinc",
    "--config.train.num_steps=4",
    "--config.train.checkpoint_every=2",
    "--config.train.sample_check_draws=32",
    "--config.train.num_samples=16",
    "--config.model.kwargs.steps_per_level=1",
    "--config.model.kwargs.hidden_channels=8",
]


def run(config: str, workdir: str, overrides: list[str]) -> dict:
    """Trains the config in a subprocess; returns its summary and the wall time."""
    command = [sys.executable, "-m", "jinvnet.train", f"--config={config}"]
    command += [f"--workdir={workdir}", "--no_progress", *overrides]
    start = time.perf_counter()
    subprocess.run(command, check=True)
    wall = time.perf_counter() - start
    with open(os.path.join(workdir, "summary.json")) as f:
        summary = json.load(f)
    return {"wall_s": wall, "summary": summary}


def row(config: str, result: dict) -> dict:
    """The table row: bits/dim vs the baseline, wall time, sample counts and scores."""
    summary = result["summary"]
    bpd = summary["test"]["bits_per_dim"]
    baseline = summary["categorical_baseline_bits_per_dim"]
    counts = {
        key: value
        for key, value in summary.items()
        if key.startswith(
            ("samples_drawn_T", "samples_nonfinite_T", "samples_unstable_T")
        )
        or (
            key.startswith("sample_score_")
            and key.endswith(("_confident_share", "_labels_present"))
        )
    }
    return {
        "config": config,
        "steps": summary["step"],
        "params": summary["params"],
        "wall_s": round(result["wall_s"], 1),
        "test_bits_per_dim": round(bpd, 4),
        "baseline_bits_per_dim": round(baseline, 4),
        "gain_over_baseline": round(1 - bpd / baseline, 4),
        "inverse_lipschitz": summary.get("inverse_lipschitz"),
        **counts,
    }


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--config", default=cli.MAIN_JOB_CONFIG)
    parser.add_argument("--output_dir", required=True)
    parser.add_argument("--smoke", action="store_true", help="tiny run for CI")
    args, overrides = parser.parse_known_args(argv)
    if args.smoke:
        args.config, overrides = "digits_cinc", _SMOKE[1:] + overrides
    workdir = os.path.join(args.output_dir, "run")
    result = run(args.config, workdir, overrides)
    table = row(args.config, result)
    table["machine"] = (
        f"{platform.processor() or platform.machine()}, {os.cpu_count()} cores"
    )
    with open(os.path.join(args.output_dir, "results.json"), "w") as f:
        json.dump(table, f, indent=2)
    print(json.dumps(table, indent=2))
    return table


if __name__ == "__main__":
    main()
