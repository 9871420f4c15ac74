"""The README main job next to PyTorch's normflows Glow, same data, recipe and machine.

For each seed, trains jinvnet's main job (`benchmark.run`, the README command in a
fresh process) and the peer (`peer_normflows.py`, run by --peer_python, a virtualenv
with torch and normflows) one after the other, each with the whole machine, on the
same 4,000 / 1,000 mnist5k split (written to <output_dir>/mnist5k_split.npz for the
peer). The peer also writes 1,024 samples per temperature, which jinvnet's digit
classifier scores exactly as it scores ours (`jinvnet.train.sample_score`: the
share labelled with confidence >= 0.9). A finished run (its JSON on disk) is
skipped, so the comparison can be completed across sessions. Prints and writes
<output_dir>/side_by_side.md and .json.

    python -m venv /tmp/peer && /tmp/peer/bin/pip install torch==2.13.0 normflows
    python -m experiments.main_job.side_by_side --peer_python /tmp/peer/bin/python \
        --output_dir runs/side_by_side --seeds 0,1
"""

import argparse
import json
import os
import platform
import subprocess

import numpy as np

from experiments.main_job import benchmark
from jinvnet import data
from jinvnet.train import __main__ as cli
from jinvnet.train import sample_score

_PEER = os.path.join(os.path.dirname(os.path.abspath(__file__)), "peer_normflows.py")


def export_split(path: str) -> None:
    """Writes mnist5k's integer training and test images (n, 28, 28, 1) to `path`."""
    dataset = data.load("mnist5k")
    np.savez_compressed(
        path,
        train_x=dataset.train.get(np.arange(len(dataset.train)))["image"],
        test_x=dataset.test.get(np.arange(len(dataset.test)))["image"],
    )


def ours(output_dir: str, seed: int, overrides: list[str]) -> dict:
    """jinvnet's main job for one seed (or its saved result)."""
    path = os.path.join(output_dir, f"jinvnet_seed_{seed}.json")
    if not os.path.exists(path):
        workdir = os.path.join(output_dir, f"jinvnet_seed_{seed}")
        result = benchmark.run(
            cli.MAIN_JOB_CONFIG, workdir, [f"--config.seed={seed}", *overrides]
        )
        with open(path, "w") as f:
            json.dump(benchmark.row(cli.MAIN_JOB_CONFIG, result), f, indent=2)
    with open(path) as f:
        return json.load(f)


def score_samples(path: str) -> dict:
    """The digit classifier's scores of the peer's 8-bit samples, per temperature.

    `path` holds pixels_T<t> (n, 28, 28, 1) and finite_T<t> (n,); a non-finite
    sample is never confident, as in jinvnet's own sample checks.
    """
    dataset = data.load("mnist5k")
    classifier = sample_score.packaged("mnist5k", dataset.image_shape, dataset.num_bins)
    fields = {}
    with np.load(path) as f:
        for key in sorted(k for k in f.files if k.startswith("pixels_T")):
            temperature = key[len("pixels_T") :]
            finite = f[f"finite_T{temperature}"]
            probabilities = classifier.pixel_probabilities(f[key]) * finite[:, None]
            result = sample_score.score(probabilities)
            fields.update(result.as_dict(f"sample_score_T{temperature}"))
    return fields


def peer(output_dir: str, seed: int, python: str, split: str, steps: int) -> dict:
    """The peer for one seed (or its saved result), with its samples' scores."""
    path = os.path.join(output_dir, f"peer_seed_{seed}.json")
    samples = os.path.join(output_dir, f"peer_seed_{seed}_samples.npz")
    if not os.path.exists(path):
        command = [python, _PEER, "--data", split, "--output", path]
        command += ["--seed", str(seed), "--num_steps", str(steps)]
        subprocess.run([*command, "--samples", samples], check=True)
    with open(path) as f:
        result = json.load(f)
    if os.path.exists(samples):
        result.update(score_samples(samples))
    return result


def _share(result: dict, temperature: str) -> str:
    share = result.get(f"sample_score_T{temperature}_confident_share")
    return "-" if share is None else f"{share:.1%}"


def _scores(result: dict) -> dict:
    return {k: v for k, v in result.items() if k.startswith("sample_score_")}


def markdown(rows: list[dict]) -> str:
    """One line per run: who, seed, steps, params, wall time, test bits/dim, and
    the share of samples the digit classifier labels confidently at T = 0.7 and 1."""
    lines = [
        "| library | model | seed | steps | params | wall s | test bits/dim "
        "| confident at T = 0.7 | at T = 1 |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for row in rows:
        lines.append(
            f"| {row['library']} | {row['model']} | {row['seed']} | {row['steps']:,} "
            f"| {row['params']:,} | {row['wall_s']} | {row['test_bits_per_dim']:.4f} "
            f"| {_share(row, '0.7')} | {_share(row, '1.0')} |"
        )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> list[dict]:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--peer_python", required=True)
    parser.add_argument("--output_dir", required=True)
    parser.add_argument("--seeds", default="0,1")
    parser.add_argument("--num_steps", type=int, default=1800, help="peer's steps")
    args, overrides = parser.parse_known_args(argv)
    os.makedirs(args.output_dir, exist_ok=True)
    split = os.path.join(args.output_dir, "mnist5k_split.npz")
    if not os.path.exists(split):
        export_split(split)
    rows = []
    for seed in (int(s) for s in args.seeds.split(",")):
        mine = ours(args.output_dir, seed, overrides)
        rows.append(
            {
                "library": "jinvnet",
                "model": mine["config"],
                "seed": seed,
                "steps": mine["steps"],
                "params": mine["params"],
                "wall_s": mine["wall_s"],  # the whole command, evaluation included
                "test_bits_per_dim": mine["test_bits_per_dim"],
                **_scores(mine),
            }
        )
        theirs = peer(args.output_dir, seed, args.peer_python, split, args.num_steps)
        rows.append(
            {
                "library": f"normflows {theirs['normflows']}, torch {theirs['torch']}",
                "model": theirs["peer"],
                "seed": seed,
                "steps": theirs["steps"],
                "params": theirs["params"],
                "wall_s": theirs["train_s"],  # training only
                "test_bits_per_dim": theirs["test_bits_per_dim"],
                **_scores(theirs),
            }
        )
    text = markdown(rows)
    machine = f"{platform.processor() or platform.machine()}, {os.cpu_count()} cores"
    with open(os.path.join(args.output_dir, "side_by_side.md"), "w") as f:
        f.write(f"{text}\n\nmachine: {machine}\n")
    with open(os.path.join(args.output_dir, "side_by_side.json"), "w") as f:
        json.dump({"machine": machine, "rows": rows}, f, indent=2)
    print(text)
    return rows


if __name__ == "__main__":
    main()
