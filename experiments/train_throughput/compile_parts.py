"""Where the train step's first-step time goes: tracing, lowering, XLA's compile.

Per model (a preset at a `train_throughput` config's shape, scanned steps) and per
set of XLA compiler options: `--rounds` rounds, each one tracing, lowering and
compiling the train step afresh for every option set (their order alternating
between rounds), then the compiled steps of all option sets timed in `--steps`
interleaved rounds (medians; `experiments._timing`). "default" (no options) is
always the first set; `--option_set NAME=option:value,...` adds one; `--depth D`
(repeatable) builds the model with D steps per level instead of the config's, a row
per depth (the scanned step program is the same at every depth). Prints a table
and, with `--output`, writes JSON. All of one model runs in this process, so the
option sets meet the same machine state (issue 16 item 3).

    python -m experiments.train_throughput.compile_parts --models emerging \
        --models cinc_quad --option_set O1=xla_backend_optimization_level:1 \
        --rounds 3 --output /tmp/compile_parts.json
"""

import argparse
import importlib
import os
import statistics
import time

import numpy as np

from experiments._timing import interleaved
from experiments.train_throughput import _compile_cli, benchmark
from jinvnet.train import make_train_step, parallel

DEFAULT = "default"


def option_set(text: str) -> tuple[str, dict]:
    """ "NAME=option:value,..." -> (NAME, {option: value}); values int, bool or str."""
    name, _, options = text.partition("=")
    if not name or not options:
        raise argparse.ArgumentTypeError(
            f"expected NAME=option:value[,option:value], got {text!r}"
        )
    parsed = {}
    for item in options.split(","):
        key, _, value = item.partition(":")
        if not key or not value:
            raise argparse.ArgumentTypeError(f"expected option:value, got {item!r}")
        if value.lstrip("-").isdigit():
            parsed[key] = int(value)
        elif value.lower() in ("true", "false"):
            parsed[key] = value.lower() == "true"
        else:
            parsed[key] = value
    return name, parsed


def _compile(setup: benchmark.Setup, options: dict) -> tuple[dict, object]:
    """Traces, lowers and compiles a new train step; (seconds of each, executable)."""
    step = make_train_step(setup.model, setup.objective, setup.optimizer, setup.mesh)
    start = time.perf_counter()
    traced = step.jitted.trace(setup.state, setup.batch)
    traced_at = time.perf_counter()
    lowered = traced.lower()
    lowered_at = time.perf_counter()
    compiled = lowered.compile(compiler_options=options)
    done = time.perf_counter()
    seconds = {
        "trace_s": traced_at - start,
        "lower_s": lowered_at - traced_at,
        "compile_s": done - lowered_at,
    }
    return seconds, compiled


def _model(
    name: str, config, option_sets: dict, rounds: int, steps: int, **flow_options
) -> dict:
    """One model: every round's parts per option set, then the steps interleaved."""
    flow = benchmark.build_flow(name, config, **flow_options)
    setup = benchmark.setup(flow, (config.batch_size, *config.image_shape), 0)
    setup = setup._replace(state=parallel.replicate(setup.state, setup.mesh))
    parts = {n: [] for n in option_sets}
    compiled = {}
    for r in range(rounds):
        order = list(option_sets) if r % 2 == 0 else list(option_sets)[::-1]
        for n in order:
            seconds, compiled[n] = _compile(setup, option_sets[n])
            parts[n].append(seconds)
    seconds, results = interleaved(
        {n: (lambda n=n: compiled[n](setup.state, setup.batch)) for n in compiled},
        repeats=steps,
    )
    return {
        n: {
            "rounds": parts[n],
            **{k: statistics.median(p[k] for p in parts[n]) for k in parts[n][0]},
            "step_s": float(np.median(seconds[n])),
            "loss": float(results[n][1]["loss"]),
        }
        for n in option_sets
    }


def run(args: argparse.Namespace) -> dict:
    """Per model and option set: medians of trace, lower, compile and step (s)."""
    configs = "experiments.train_throughput.configs"
    config = importlib.import_module(f"{configs}.{args.config}").get_config()
    benchmark.use_devices(config)
    option_sets = {DEFAULT: {}, **dict(args.option_set or [])}
    models = {}
    for name in args.models:
        for depth in args.depth or [None]:
            # Another depth: the same step program scanned over fewer or more steps.
            label, options = (
                (name, {})
                if depth is None
                else (f"{name} D={depth}", {"steps_per_level": depth})
            )
            models[label] = _model(
                name, config, option_sets, args.rounds, args.steps, **options
            )
    return {
        "option_sets": option_sets,
        "glibc_tunables": os.environ.get("GLIBC_TUNABLES"),
        "models": models,
    }


def table(result: dict) -> str:
    """A markdown table: one row per model and option set."""
    lines = [
        "| model | options | trace s | lower s | XLA compile s | step s | "
        "compile / default | step / default |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for model, sets in result["models"].items():
        base = sets[DEFAULT]
        for name, t in sets.items():
            lines.append(
                f"| {model} | {name} | {t['trace_s']:.2f} | {t['lower_s']:.2f} | "
                f"{t['compile_s']:.2f} | {t['step_s']:.3f} | "
                f"{t['compile_s'] / base['compile_s']:.2f} | "
                f"{t['step_s'] / base['step_s']:.3f} |"
            )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> dict:
    parser = _compile_cli.parser(__doc__, steps=5)
    parser.add_argument("--option_set", action="append", type=option_set)
    parser.add_argument(
        "--depth",
        action="append",
        type=int,
        help="steps per level instead of the config's; repeat for a row per depth",
    )
    args = _compile_cli.parse(parser, argv)
    result = run(args)
    return _compile_cli.report(table(result), result, args.output)


if __name__ == "__main__":
    main()
