"""One change at a time to the README main job, several seeds each: where do bits go?

Each variant is the main job's command on `BASE_CONFIG` (its recipe with uniform
dequantisation) plus a few `--config.x=y` overrides (`VARIANTS`). Every (variant,
seed) trains in its own subprocess into <workdir>/<variant>/seed_<n>; a finished
run (summary.json present) is skipped, and an interrupted one resumes from its
checkpoint, so the table can be completed over several sessions. `--jobs 2` runs
two at a time, each pinned to its own core (step counts, not wall times, are
compared). The table (test bits/dim mean ± std over the finished seeds, next to
the per-pixel baseline, the sample counts and the digit classifier's score at
T = 0.7) goes to <workdir>/ablation.md and .json.

    python -m experiments.main_job.ablation --workdir runs/ablation --seeds 0,1 \
        --variants uniform,glow,lr3e-3 --jobs 2
    python -m experiments.main_job.ablation --workdir runs/ablation --table_only
"""

import argparse
import concurrent.futures
import json
import os
import queue
import subprocess
import sys

import numpy as np

# Every variant changes this config: the README main job's recipe with uniform
# dequantisation (the main job until 2026-12-03, when variational dequantisation,
# measured here, replaced it).
BASE_CONFIG = "mnist5k_cinc_uniform"

_VARIATIONAL = ("--config.data.dequantization=variational",)
_SMALL_Q = (  # a quarter of the default dequantiser's couplings' width x depth
    *_VARIATIONAL,
    "--config.data.dequantizer_hidden_channels=16",
    "--config.data.dequantizer_steps=2",
)
_TINY_Q = (  # width 8, 2 couplings
    *_VARIATIONAL,
    "--config.data.dequantizer_hidden_channels=8",
    "--config.data.dequantizer_steps=2",
)
_LR_3E_3 = ("--config.optim.learning_rate=3e-3",)
_LR_4E_3 = ("--config.optim.learning_rate=4e-3",)
_LR_6E_3 = ("--config.optim.learning_rate=6e-3",)
_LR_8E_3 = ("--config.optim.learning_rate=8e-3",)
_GLOW = ("--config.model.factory=multiscale.glow",)
_INIT_UNIFORM = ("--config.model.kwargs.coupling_init=uniform",)
# The peer's model choices: a learned unconditional diagonal Gaussian for every
# latent entry, no conditional split prior, Glow's unbounded scale.
_PEER_MODEL = (
    "--config.model.kwargs.learned_base=True",
    "--config.model.kwargs.split_prior=False",
    "--config.model.kwargs.coupling_min_scale=0.0",
)

VARIANTS: dict[str, tuple[str, ...]] = {
    "uniform": (),  # BASE_CONFIG: the main job until 2026-12-03
    "glow": _GLOW,
    "lr3e-3": _LR_3E_3,
    "lr4e-3": _LR_4E_3,
    "lr6e-3": _LR_6E_3,
    # The coupling conditioners' hidden layers started as PyTorch does (normflows).
    "init_uniform": _INIT_UNIFORM,
    "lr4e-3_init_uniform": (*_LR_4E_3, *_INIT_UNIFORM),
    "lr6e-3_init_uniform": (*_LR_6E_3, *_INIT_UNIFORM),
    "lr8e-3_init_uniform": (*_LR_8E_3, *_INIT_UNIFORM),
    "unbounded_scale": ("--config.model.kwargs.coupling_min_scale=0.0",),
    "learned_base": ("--config.model.kwargs.learned_base=True",),
    "no_split_prior": ("--config.model.kwargs.split_prior=False",),
    # The peer's model choices on our CInC flow and on our Glow preset (the latter
    # has the peer's 153,760 parameters).
    "peer_like": _PEER_MODEL,
    "peer_like_glow": (*_GLOW, *_PEER_MODEL),
    "peer_like_glow_init_uniform": (*_GLOW, *_PEER_MODEL, *_INIT_UNIFORM),
    "logit_alpha_0.05": ("--config.model.kwargs.logit_alpha=0.05",),
    "logit_alpha_1e-3": ("--config.model.kwargs.logit_alpha=1e-3",),
    "variational_dequantization": _VARIATIONAL,
    "variational_small": _SMALL_Q,
    "variational_tiny": _TINY_Q,
    # Variational dequantisation at the main job's wall time: its step costs 1.98x
    # (1.41x with the small dequantiser), so 900 (1,250) steps fit (step_time.py).
    "variational_900": (*_VARIATIONAL, "--config.train.num_steps=900"),
    "variational_small_1250": (*_SMALL_Q, "--config.train.num_steps=1250"),
    "variational_small_1250_lr3e-3": (
        *_SMALL_Q,
        "--config.train.num_steps=1250",
        *_LR_3E_3,
    ),
    "variational_tiny_1450": (*_TINY_Q, "--config.train.num_steps=1450"),
    "variational_tiny_1450_lr3e-3": (
        *_TINY_Q,
        "--config.train.num_steps=1450",
        *_LR_3E_3,
    ),
    # The main job (learned noise, small q, lr 3e-3) with the uniform init.
    "main_job_init_uniform": (*_SMALL_Q, *_LR_3E_3, *_INIT_UNIFORM),
    "main_job_lr4e-3_init_uniform": (*_SMALL_Q, *_LR_4E_3, *_INIT_UNIFORM),
    "main_job_lr6e-3_init_uniform": (*_SMALL_Q, *_LR_6E_3, *_INIT_UNIFORM),
    "main_job_lr8e-3_init_uniform": (*_SMALL_Q, *_LR_8E_3, *_INIT_UNIFORM),
    # The main job with each level's steps as one lax.scan (issue 16 item 3):
    # the same model in another parameter layout; faster to compile. The default
    # since 2026-12-04; main_job_written_out is the layout before.
    "main_job_written_out": (
        *_SMALL_Q,
        *_LR_6E_3,
        *_INIT_UNIFORM,
        "--config.model.kwargs.scan_steps=False",
    ),
    "main_job_scan": (
        *_SMALL_Q,
        *_LR_6E_3,
        *_INIT_UNIFORM,
        "--config.model.kwargs.scan_steps=True",
    ),
    # The main job trained 2x and 3x as long (issue 25: does the T = 0.7 sample
    # score grow with training, and how far from 60%?), scored at T = 0.5 too.
    "main_job_3600": (
        *_SMALL_Q,
        *_LR_6E_3,
        *_INIT_UNIFORM,
        "--config.train.num_steps=3600",
        "--config.train.temperatures=(1.0,0.7,0.5)",
    ),
    "main_job_5400": (
        *_SMALL_Q,
        *_LR_6E_3,
        *_INIT_UNIFORM,
        "--config.train.num_steps=5400",
        "--config.train.temperatures=(1.0,0.7,0.5)",
    ),
    # The main job with the peer's base (issue 25: its T = 0.7 samples score lower
    # than its T = 1 samples, the peer's do not): a learned N(mu, sigma^2) per
    # latent entry, then also without the conditional split prior.
    "main_job_learned_base": (
        *_SMALL_Q,
        *_LR_6E_3,
        *_INIT_UNIFORM,
        "--config.model.kwargs.learned_base=True",
    ),
    "main_job_peer_base": (
        *_SMALL_Q,
        *_LR_6E_3,
        *_INIT_UNIFORM,
        "--config.model.kwargs.learned_base=True",
        "--config.model.kwargs.split_prior=False",
    ),
    # Not a change at equal budget: the ceiling of the recipe at 3x the steps.
    "steps_5400": ("--config.train.num_steps=5400",),
    "width96_depth6": (
        "--config.model.kwargs.hidden_channels=96",
        "--config.model.kwargs.steps_per_level=6",
    ),
}


def run_dir(workdir: str, variant: str, seed: int) -> str:
    """Where one (variant, seed) run writes."""
    return os.path.join(workdir, variant, f"seed_{seed}")


def train(
    variant: str, seed: int, workdir: str, extra: list[str], core: int | None
) -> dict:
    """Runs (or resumes) one variant and seed; returns its summary.json."""
    directory = run_dir(workdir, variant, seed)
    summary_path = os.path.join(directory, "summary.json")
    if not os.path.exists(summary_path):
        pin = [] if core is None else ["taskset", "--cpu-list", str(core)]
        command = [
            *pin,
            sys.executable,
            "-m",
            "jinvnet.train",
            f"--config={BASE_CONFIG}",
            f"--workdir={directory}",
            "--no_progress",
            f"--config.seed={seed}",
            *VARIANTS[variant],
            *extra,
        ]
        os.makedirs(directory, exist_ok=True)
        with open(os.path.join(directory, "log.txt"), "a") as log:
            subprocess.run(
                command,
                check=True,
                stdout=log,
                stderr=subprocess.STDOUT,
            )
    with open(summary_path) as f:
        return json.load(f)


def table(workdir: str, variants: list[str], seeds: list[int]) -> list[dict]:
    """One row per variant over its finished seeds (unfinished ones are left out)."""
    rows = []
    for variant in variants:
        summaries = []
        for seed in seeds:
            path = os.path.join(run_dir(workdir, variant, seed), "summary.json")
            if os.path.exists(path):
                with open(path) as f:
                    summaries.append((seed, json.load(f)))
        if not summaries:
            continue
        bpd = np.array([s["test"]["bits_per_dim"] for _, s in summaries])
        rows.append(
            {
                "variant": variant,
                "overrides": " ".join(VARIANTS[variant]) or "(none)",
                "seeds": [seed for seed, _ in summaries],
                "test_bits_per_dim": [round(float(b), 4) for b in bpd],
                "mean": round(float(bpd.mean()), 4),
                "std": round(float(bpd.std(ddof=1)), 4) if len(bpd) > 1 else None,
                "baseline": round(
                    summaries[0][1]["categorical_baseline_bits_per_dim"], 4
                ),
                "steps": summaries[0][1]["step"],
                "params": summaries[0][1]["params"],
                "nonfinite_T1.0": sum(
                    s.get("samples_nonfinite_T1.0", 0) for _, s in summaries
                ),
                "unstable_T1.0": sum(
                    s.get("samples_unstable_T1.0", 0) for _, s in summaries
                ),
                "confident_T0.7": [
                    s.get("sample_score_T0.7_confident_share") for _, s in summaries
                ],
                "wall_s": [round(s["wall_s"]) for _, s in summaries],
            }
        )
    return rows


def markdown(rows: list[dict]) -> str:
    """The table in markdown, best mean first."""
    lines = [
        "| variant | overrides | steps | seeds | test bits/dim (each) | mean ± std | "
        "baseline | params | non-finite / failed round trip at T = 1 (all seeds) "
        "| confident share at T = 0.7 | wall s (each) |",
        "|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for row in sorted(rows, key=lambda r: r["mean"]):
        std = f" ± {row['std']:.3f}" if row["std"] is not None else ""
        confident = ", ".join(
            "-" if c is None else f"{c:.1%}" for c in row["confident_T0.7"]
        )
        lines.append(
            f"| {row['variant']} | `{row['overrides']}` | {row['steps']:,} | "
            f"{','.join(map(str, row['seeds']))} | "
            f"{', '.join(f'{b:.3f}' for b in row['test_bits_per_dim'])} | "
            f"{row['mean']:.3f}{std} | {row['baseline']:.3f} | {row['params']:,} | "
            f"{row['nonfinite_T1.0']} / {row['unstable_T1.0']} | "
            f"{confident} | {', '.join(map(str, row['wall_s']))} |"
        )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> list[dict]:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--workdir", required=True)
    parser.add_argument("--variants", default=",".join(VARIANTS))
    parser.add_argument("--seeds", default="0,1")
    parser.add_argument("--jobs", type=int, default=1, help="runs at a time")
    parser.add_argument("--table_only", action="store_true")
    args, extra = parser.parse_known_args(argv)
    variants = args.variants.split(",")
    unknown = sorted(set(variants) - set(VARIANTS))
    if unknown:
        raise SystemExit(f"unknown variants {unknown}; choose from {sorted(VARIANTS)}")
    seeds = [int(s) for s in args.seeds.split(",")]
    if not args.table_only:
        free_cores = queue.Queue()
        for core in sorted(os.sched_getaffinity(0)):
            free_cores.put(core)

        def pinned(variant, seed):
            if args.jobs == 1:
                return train(variant, seed, args.workdir, extra, None)
            core = free_cores.get()  # one run per core at a time
            try:
                return train(variant, seed, args.workdir, extra, core)
            finally:
                free_cores.put(core)

        with concurrent.futures.ThreadPoolExecutor(args.jobs) as pool:
            futures = [pool.submit(pinned, v, s) for s in seeds for v in variants]
            for future in futures:
                future.result()
    rows = table(args.workdir, variants, seeds)
    text = markdown(rows)
    os.makedirs(args.workdir, exist_ok=True)
    with open(os.path.join(args.workdir, "ablation.md"), "w") as f:
        f.write(text + "\n")
    with open(os.path.join(args.workdir, "ablation.json"), "w") as f:
        json.dump(rows, f, indent=2)
    print(text)
    return rows


if __name__ == "__main__":
    main()
