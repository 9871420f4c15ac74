"""First-step time of the train step with an empty and with a filled compilation cache.

For each model, one `main.py` process with an empty persistent compilation cache
(`jinvnet.train.compile_cache`: a new folder in JAX_COMPILATION_CACHE_DIR), then
one with the folder that run filled, in `--rounds` rounds. Each process reports its
first step (compile + one step) and its median step; "compile" is their
difference. Prints every process, then the medians and cold / warm per model;
writes them to `--output` as JSON.

    python -m experiments.train_throughput.compile_cache --models emerging \
        --models cinc_quad --rounds 2 --output /tmp/compile_cache.json

Default shape: CIFAR-10 L3 D32 width 64, batch 64, scanned steps (the
`train_throughput` default, issue 16 item 3). `--config` takes a
train_throughput config name for a smaller one (the smoke test: quick).
"""

import argparse
import os
import statistics
import tempfile

from experiments.train_throughput import _compile_cli
from experiments.train_throughput._process import run_main
from jinvnet.train import compile_cache

CACHES = ("cold", "warm")


def _first_step(args: argparse.Namespace, model: str, cache: str, output: str) -> dict:
    """One `main.py` process with the cache folder `cache`: its first and step s."""
    flags = [f"--config={args.config}", f"--config.models={model}"]
    flags += ["--config.variants=scan", f"--config.steps={args.steps}"]
    env = dict(os.environ, **{compile_cache.VARIABLE: cache})
    (row,) = run_main(flags, env, output)["rows"]
    first, step = row["first_step_s"], row["step_s"]
    return {"first_step_s": first, "step_s": step, "compile_s": first - step}


def run(args: argparse.Namespace) -> dict:
    """Per model and cache state, each round's times, and the medians."""
    runs = {m: {c: [] for c in CACHES} for m in args.models}
    with tempfile.TemporaryDirectory() as directory:
        for r in range(args.rounds):
            for model in args.models:
                cache = os.path.join(directory, f"cache_{model}_{r}")
                for state in CACHES:  # cold fills the new folder, warm reads it
                    output = os.path.join(directory, f"{model}_{r}_{state}")
                    times = _first_step(args, model, cache, output)
                    runs[model][state].append(times)
                    print(
                        f"round {r}: {model}, {state} cache: first step "
                        f"{times['first_step_s']:.2f} s, step {times['step_s']:.3f} "
                        f"s, compile {times['compile_s']:.2f} s",
                        flush=True,
                    )
    medians = {
        m: {
            c: {k: statistics.median(t[k] for t in ts) for k in ts[0]}
            for c, ts in by.items()
        }
        for m, by in runs.items()
    }
    ratios = {
        m: med["cold"]["compile_s"] / med["warm"]["compile_s"]
        for m, med in medians.items()
    }
    return {"runs": runs, "medians": medians, "cold_over_warm_compile": ratios}


def table(result: dict) -> str:
    """A markdown table: compile seconds cold and warm, and step seconds, per model."""
    lines = [
        "| model | compile s, cold | compile s, warm | cold / warm | step s |",
        "|---|---|---|---|---|",
    ]
    for model, med in result["medians"].items():
        cold, warm = med["cold"], med["warm"]
        lines.append(
            f"| {model} | {cold['compile_s']:.2f} | {warm['compile_s']:.2f} | "
            f"{result['cold_over_warm_compile'][model]:.1f} | "
            f"{cold['step_s']:.3f} / {warm['step_s']:.3f} |"
        )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> dict:
    args = _compile_cli.parse(_compile_cli.parser(__doc__, steps=3), argv)
    result = run(args)
    return _compile_cli.report(table(result), result, args.output)


if __name__ == "__main__":
    main()
