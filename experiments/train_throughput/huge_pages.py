"""Training step time with and without glibc's huge pages tunable, ours and the peer's.

glibc reads GLIBC_TUNABLES when a process starts (`jinvnet.train.huge_pages`), so
each measurement is a process of its own: our step (`benchmark.py`, the peer's
model: Glow L3 K8 width 128, learned base, scanned steps, batch 64, one CPU device
per core) and, with `--peer_python`, normflows' Glow (`peer_normflows.py`), each
without and with `glibc.malloc.hugetlb=1`, in alternating rounds. Prints every
process's step time, then the medians over rounds and the four ratios; writes
them to `--output` as JSON.

    python -m experiments.train_throughput.huge_pages --rounds 3 \
        --peer_python /tmp/peer/bin/python --output /tmp/huge_pages.json

`--steps` and `--hidden` shrink it (the smoke test: `--steps 1 --hidden 8
--blocks 1`).
"""

import argparse
import json
import os
import statistics
import subprocess
import tempfile

from experiments.train_throughput._process import ROOT, run_main
from jinvnet.train import huge_pages

SETTINGS = ("default", "hugetlb=1")


def _environment(setting: str) -> dict:
    env = {k: v for k, v in os.environ.items() if k != huge_pages.VARIABLE}
    return huge_pages.environment(env) if setting == "hugetlb=1" else env


def _ours(args: argparse.Namespace, setting: str, directory: str) -> float:
    """Our step time (s): one `benchmark.py` process."""
    flags = [
        "--config.models=glow",
        f"--config.steps_per_level={args.blocks}",
        f"--config.hidden_channels={args.hidden}",
        f"--config.steps={args.steps}",
        "--config.variants=scan",
        "--config.bases=learned",
    ]
    env = _environment(setting)
    results = run_main(flags, env, os.path.join(directory, f"ours_{setting}"))
    tunables = results["config"]["glibc_tunables"]
    if tunables != env.get(huge_pages.VARIABLE):
        raise RuntimeError(f"the {setting} run saw GLIBC_TUNABLES={tunables!r}")
    (row,) = results["rows"]
    return row["step_s"]


def _peer(args: argparse.Namespace, setting: str, directory: str) -> float:
    """The peer's step time (s): one `peer_normflows.py` process."""
    output = os.path.join(directory, f"peer_{setting}.json")
    command = [args.peer_python, "-m", "experiments.train_throughput.peer_normflows"]
    command += ["--output", output, "--levels", "3", "--blocks", str(args.blocks)]
    command += ["--hidden", str(args.hidden), "--batch_size", "64"]
    command += ["--steps", str(args.steps), "--threads", str(os.cpu_count())]
    subprocess.run(
        command, check=True, cwd=ROOT, env=_environment(setting), capture_output=True
    )
    with open(output) as f:
        return json.load(f)["step_s"]


def run(args: argparse.Namespace) -> dict:
    """Step times per (program, setting) over `args.rounds` rounds, and medians."""
    programs = {"ours": _ours} | ({"peer": _peer} if args.peer_python else {})
    times = {p: {s: [] for s in SETTINGS} for p in programs}
    with tempfile.TemporaryDirectory() as directory:
        for r in range(args.rounds):
            # Alternate the order, so neither setting always runs first.
            for setting in SETTINGS if r % 2 == 0 else SETTINGS[::-1]:
                for program, measure in programs.items():
                    seconds = measure(args, setting, directory)
                    times[program][setting].append(seconds)
                    line = f"round {r}: {program}, {setting}: {1e3 * seconds:.0f} ms"
                    print(line, flush=True)
    medians = {
        p: {s: statistics.median(v) for s, v in by.items()} for p, by in times.items()
    }
    ratios = {
        f"{p} default / hugetlb=1": m["default"] / m["hugetlb=1"]
        for p, m in medians.items()
    }
    if "peer" in medians:
        for s in SETTINGS:
            ratios[f"ours / peer throughput, {s}"] = (
                medians["peer"][s] / medians["ours"][s]
            )
    return {"step_s": times, "median_step_s": medians, "ratios": ratios}


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--steps", type=int, default=5, help="timed steps each")
    parser.add_argument("--blocks", type=int, default=8, help="steps per level")
    parser.add_argument("--hidden", type=int, default=128)
    parser.add_argument("--peer_python", help="a python with torch and normflows")
    parser.add_argument("--output", help="a JSON file for the results")
    args = parser.parse_args(argv)
    result = run(args)
    print("\n| program | default: step ms | hugetlb=1: step ms | default / hugetlb=1 |")
    print("|---|---|---|---|")
    for program, m in result["median_step_s"].items():
        ratio = m["default"] / m["hugetlb=1"]
        print(
            f"| {program} | {1e3 * m['default']:.0f} | "
            f"{1e3 * m['hugetlb=1']:.0f} | {ratio:.3f} |"
        )
    for name, value in result["ratios"].items():
        if name.startswith("ours / peer"):
            print(f"{name}: {value:.3f}")
    if args.output:
        with open(args.output, "w") as f:
            json.dump({"args": vars(args), **result}, f, indent=2)
    return result


if __name__ == "__main__":
    main()
