"""Command line: `python -m jinvnet.train --config=NAME --workdir=DIR [overrides]`.

Trains the named config (see --list_configs), resuming from DIR's newest
checkpoint, and prints a summary. Any field can be overridden with
`--config.<field>=<value>`, e.g. `--config.train.num_steps=200` or
`--config.model.kwargs.hidden_channels=64`; values are Python literals
(numbers, booleans, tuples), anything else is a string.

Several devices on one host are used automatically (data parallel). On several
hosts, start the same command on every host with --distributed, which calls
`jax.distributed.initialize()` (it finds the coordinator on TPU pods and SLURM;
elsewhere set JAX_COORDINATOR_ADDRESS, JAX_NUM_PROCESSES and JAX_PROCESS_ID).
"""

import argparse
import ast
import json
import logging
import sys

import jax

from jinvnet.train import configs
from jinvnet.train.loop import train_and_evaluate

MAIN_JOB_CONFIG = "digits_cinc"  # the README main job


def _parse_value(text: str):
    try:
        return ast.literal_eval(text)
    except (ValueError, SyntaxError):
        return text


def _apply_overrides(config, overrides: list[str]) -> None:
    for item in overrides:
        if not item.startswith("--config.") or "=" not in item:
            raise SystemExit(
                f"unrecognised argument {item!r}; overrides look like "
                "--config.train.num_steps=100"
            )
        path, text = item[len("--config.") :].split("=", 1)
        *parents, leaf = path.split(".")
        node = config
        for name in parents:
            if name not in node:
                raise SystemExit(
                    f"--config.{path}: no field {name!r} (see --show_config)"
                )
            node = node[name]
        value = _parse_value(text)
        if leaf not in node and not (parents and parents[-1] == "kwargs"):
            raise SystemExit(f"--config.{path}: no field {leaf!r} (see --show_config)")
        if leaf in node and isinstance(node[leaf], float) and isinstance(value, int):
            value = float(value)
        if leaf in node and isinstance(node[leaf], str):
            value = text
        try:
            node[leaf] = value
        except TypeError as error:
            raise SystemExit(f"--config.{path}={text}: {error}") from error


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m jinvnet.train",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog="configs: " + ", ".join(sorted(configs.CONFIGS)),
    )
    parser.add_argument(
        "--config",
        default=MAIN_JOB_CONFIG,
        help="a named config (default %(default)s, the README main job)",
    )
    parser.add_argument(
        "--workdir",
        default="runs/default",
        help="output and checkpoint folder (default %(default)s)",
    )
    parser.add_argument(
        "--list_configs", action="store_true", help="list configs and exit"
    )
    parser.add_argument(
        "--show_config",
        action="store_true",
        help="print the config (after overrides) and exit",
    )
    parser.add_argument(
        "--distributed",
        action="store_true",
        help="call jax.distributed.initialize() first (multi-host)",
    )
    parser.add_argument(
        "--no_progress", action="store_true", help="hide the progress bar"
    )
    return parser


def main(argv: list[str] | None = None) -> dict | None:
    """Parses the command line, trains, prints the summary and returns it."""
    args, overrides = _parser().parse_known_args(argv)
    if args.list_configs:
        print("\n".join(sorted(configs.CONFIGS)))
        return None
    try:
        config = configs.get_config(args.config)
    except ValueError as error:
        raise SystemExit(str(error)) from error
    _apply_overrides(config, overrides)
    if args.show_config:
        print(config)
        return None
    if args.distributed:
        jax.distributed.initialize()
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    summary = train_and_evaluate(config, args.workdir, progress=not args.no_progress)
    test = summary["test"]
    print(
        f"\n{args.config}: {summary['step']} steps on "
        f"{summary['num_devices']} device(s), "
        f"{summary['params']} parameters"
    )
    if "bits_per_dim" in test:
        print(f"test bits/dim: {test['bits_per_dim']:.4f}")
    if "categorical_baseline_bits_per_dim" in summary:
        print(
            f"per-pixel independent categorical baseline (same split): "
            f"{summary['categorical_baseline_bits_per_dim']:.4f} bits/dim"
        )
    if "accuracy" in test:
        print(f"test accuracy: {test['accuracy']:.4f}")
    print(
        f"wrote {args.workdir}/: samples_T*.png, reconstructions.png, loss_curve.png, "
        f"metrics.jsonl, summary.json; checkpoint {summary['checkpoint']}"
    )
    print(json.dumps(summary))
    return summary


if __name__ == "__main__":
    main(sys.argv[1:])
