"""Command line: `python -m jinvnet.train --config=NAME --workdir=DIR [overrides]`.

Trains the named config (see --list_configs; default mnist5k_cinc, the README main
job), resuming from DIR's newest checkpoint, and prints a summary. `--config` also
takes an ml_collections config file, `--config=my_config.py[:arg]`. Any field can
be overridden after it with `--config.<field>=<value>`, e.g.
`--config.train.num_steps=200` or `--config.model.kwargs.hidden_channels=64`
(ml_collections.config_flags: the value is parsed as the field's type; a field
that does not exist is an error; `--show_config` lists them all).

Several devices on one host are used automatically (data parallel); on a CPU,
--cpu_devices=N makes N devices of it (default "cores": one per usable core, as
many as divide the batch sizes; with --distributed, one per process unless the
flag is given; docs/training.md, "CPU devices"). On several
hosts, start the same command on every host with --distributed, which calls
`jax.distributed.initialize()` (it finds the coordinator on TPU pods and SLURM;
elsewhere set JAX_COORDINATOR_ADDRESS, JAX_NUM_PROCESSES and JAX_PROCESS_ID, e.g.
JAX_COORDINATOR_ADDRESS=10.0.0.1:1234 JAX_NUM_PROCESSES=2 JAX_PROCESS_ID=0).
"""

import argparse
import contextlib
import json
import logging
import os
import sys

import jax
import ml_collections

from jinvnet.train import (
    compile_cache,
    config_cli,
    configs,
    evaluation,
    huge_pages,
    parallel,
)
from jinvnet.train.config_validation import validate_config
from jinvnet.train.loop import train_and_evaluate

MAIN_JOB_CONFIG = configs.MAIN_JOB_CONFIG  # the README main job


def _initialize_distributed() -> None:
    """`jax.distributed.initialize()` with JAX_NUM_PROCESSES / JAX_PROCESS_ID if set.

    JAX reads JAX_COORDINATOR_ADDRESS itself but not the other two, so without
    this a run outside TPU pods and SLURM stops at "Number of processes must be
    defined".
    """
    kwargs = {}
    for variable, name in (
        ("JAX_NUM_PROCESSES", "num_processes"),
        ("JAX_PROCESS_ID", "process_id"),
    ):
        text = os.environ.get(variable)
        if text:
            try:
                kwargs[name] = int(text)
            except ValueError as error:
                raise SystemExit(
                    f"{variable} must be an integer, got {text!r}"
                ) from error
    jax.distributed.initialize(**kwargs)


def _make_cpu_devices(
    requested: str | None, config: ml_collections.ConfigDict, *, distributed: bool
) -> None:
    """Sets the CPU device count from --cpu_devices ("cores" or N).

    A count asked for that cannot be made stops the run. Without the flag,
    `parallel.default_cpu_devices`: one per core unless the environment set a
    count or JAX has already started (`main` called from a program that ran JAX).
    With --distributed and no flag, JAX's own count stays (one CPU device per
    process): several processes may share a host's cores.
    """
    sizes = [config.train.batch_size, config.train.eval_batch_size]
    if requested is None:
        if not distributed:
            parallel.default_cpu_devices(sizes)
        return
    try:
        count = (
            parallel.cpu_device_count(sizes) if requested == "cores" else int(requested)
        )
        parallel.set_cpu_devices(count)
    except ValueError as error:
        raise SystemExit(
            f'--cpu_devices must be a positive integer or "cores", got {requested!r}'
        ) from error
    except RuntimeError as error:
        raise SystemExit(str(error)) from error


@contextlib.contextmanager
def _console_logging():
    """Shows jinvnet's log messages (INFO and above) on stderr while it is active.

    absl, imported by orbax, puts its handler on the root logger: that makes
    `logging.basicConfig` a no-op and hides INFO messages such as "resumed from
    step N". So the "jinvnet" logger gets its own handler, and does not pass its
    records on to the root logger, for the duration.
    """
    logger = logging.getLogger("jinvnet")
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("%(levelname)s: %(message)s"))
    saved = logger.level, logger.propagate
    logger.addHandler(handler)
    logger.setLevel(logging.INFO)
    logger.propagate = False
    try:
        yield
    finally:
        logger.removeHandler(handler)
        logger.setLevel(saved[0])
        logger.propagate = saved[1]


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m jinvnet.train",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog=f"--config=NAME|FILE.py[:arg]: a named config (default "
        f"{MAIN_JOB_CONFIG}; with --eval_only, the config saved in the workdir) or a "
        "config file; then --config.<field>=<value> overrides, e.g. "
        "--config.train.num_steps=200. configs: " + ", ".join(sorted(configs.CONFIGS)),
        allow_abbrev=False,
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
        "--cpu_devices",
        help='how many devices to make of the CPU: N, or "cores" (the default: '
        "one per usable core, as many as divide train.batch_size and "
        "train.eval_batch_size; without this flag, a count set by XLA_FLAGS or "
        "JAX_NUM_CPU_DEVICES is kept, and with --distributed JAX's one per "
        "process). Accelerators are unaffected",
    )
    parser.add_argument(
        "--no_progress", action="store_true", help="hide the progress bar"
    )
    parser.add_argument(
        "--no_huge_pages",
        action="store_true",
        help="do not start again with glibc's GLIBC_TUNABLES=glibc.malloc.hugetlb=1 "
        "(transparent huge pages for host memory: about a tenth off a CPU training "
        "step; done when run as `python -m jinvnet.train` on Linux with glibc >= "
        "2.35 and THP in madvise mode, unless GLIBC_TUNABLES names the tunable; "
        "jinvnet.train.huge_pages)",
    )
    parser.add_argument(
        "--no_compile_cache",
        action="store_true",
        help="do not keep compiled programs in JAX's persistent compilation cache "
        "(on by default for `python -m jinvnet.train`: a rerun, resume or "
        "--eval_only reads the train and evaluation steps and samplers back "
        "instead of compiling them again; in JAX_COMPILATION_CACHE_DIR if set, "
        "else ~/.cache/jinvnet/xla; jinvnet.train.compile_cache)",
    )
    parser.add_argument(
        "--eval_only",
        action="store_true",
        help="restore the workdir's best checkpoint, print test bits/dim, write "
        "samples and interpolations to <workdir>/eval; no training",
    )
    return parser


def main(
    argv: list[str] | None = None,
    *,
    restart: bool = False,
    cache_compiles: bool = False,
) -> dict | None:
    """Parses the command line, trains, prints the summary and returns it.

    The command line's entry point sets both flags. With `restart` the process
    first starts itself again with glibc's huge pages tunable (`huge_pages`),
    unless --no_huge_pages, once the command line has been checked. With
    `cache_compiles` it keeps compiled programs in JAX's persistent cache
    (`compile_cache.enable`), unless --no_compile_cache. Called from a program
    (`main(argv)`), neither: the process and JAX's settings are the caller's.
    """
    args, config_args = _parser().parse_known_args(argv)
    if args.list_configs:
        print("\n".join(sorted(configs.CONFIGS)))
        return None
    saved = os.path.join(args.workdir, "config.json")
    default = MAIN_JOB_CONFIG
    if (
        args.eval_only
        and not config_cli.has_config_argument(config_args)
        and os.path.exists(saved)
    ):
        with open(saved) as f:
            default = ml_collections.ConfigDict(json.load(f))
    config = config_cli.config_or_exit(config_args, default=default)
    if args.show_config:
        print(config)
        return None
    try:
        validate_config(config)
    except ValueError as error:
        raise SystemExit(str(error)) from error
    if restart and not args.no_huge_pages:
        huge_pages.restart_with_huge_pages()
    if cache_compiles and not args.no_compile_cache:
        compile_cache.enable()
    _make_cpu_devices(args.cpu_devices, config, distributed=args.distributed)
    if args.distributed:
        _initialize_distributed()
    if args.eval_only:
        with _console_logging():
            summary = evaluation.evaluate_run(config, args.workdir)
        print(f"\n{args.workdir}: checkpoint step {summary['step']}")
        print(recipe(config))
        _print_test_metrics(summary)
        print(f"wrote {args.workdir}/eval/: samples_T*.png, interpolation.png, ...")
        print(json.dumps(summary))
        return summary
    with _console_logging():
        summary = train_and_evaluate(
            config, args.workdir, progress=not args.no_progress
        )
    name = config_cli.config_name(config_args, default=MAIN_JOB_CONFIG)
    print(
        f"\n{name}: {summary['step']} steps on "
        f"{summary['num_devices']} device(s), "
        f"{summary['params']} parameters"
    )
    print(recipe(config))
    _print_test_metrics(summary)
    print(
        f"wrote {args.workdir}/: samples_T*.png, reconstructions.png, loss_curve.png, "
        f"metrics.jsonl, summary.json; checkpoint {summary['checkpoint']}"
    )
    print(json.dumps(summary))
    return summary


def recipe(config: ml_collections.ConfigDict) -> str:
    """The run's main choices in one line, so two runs' summaries can be told apart.

    Model (factory and arguments), data and dequantisation, objective, steps,
    optimiser, learning rate and schedule, batch size, EMA and seed.
    """
    kwargs = ", ".join(f"{k}={v!r}" for k, v in sorted(config.model.kwargs.items()))
    optim = config.optim
    schedule = f"{optim.warmup_steps} warm-up steps, {optim.decay} decay"
    ema = f"EMA {optim.ema_decay}" if optim.ema_decay else "no EMA"
    return (
        f"recipe: {config.objective} model {config.model.factory}({kwargs}) on "
        f"{config.data.name}, {config.data.dequantization} dequantisation; "
        f"{config.train.num_steps:,} steps of {optim.name} at learning rate "
        f"{optim.learning_rate:g} ({schedule}), batch {config.train.batch_size}, "
        f"{ema}, seed {config.seed}"
    )


def _print_test_metrics(summary: dict) -> None:
    """Test bits/dim next to the categorical baseline, accuracy, sample warnings."""
    test = summary["test"]
    if "bits_per_dim" in test:
        bound = (
            " (variational bound)"
            if summary.get("dequantization") == "variational"
            else ""
        )
        print(f"test bits/dim{bound}: {test['bits_per_dim']:.4f}")
    if "categorical_baseline_bits_per_dim" in summary:
        print(
            f"per-pixel independent categorical baseline (same split): "
            f"{summary['categorical_baseline_bits_per_dim']:.4f} bits/dim"
        )
    if "accuracy" in test:
        print(f"test accuracy: {test['accuracy']:.4f}")
    _print_sample_scores(summary)
    for key, value in summary.items():
        if key.startswith(("samples_nonfinite_T", "samples_unstable_T")) and value:
            drawn = summary[key.replace(key.split("_T")[0], "samples_drawn")]
            print(f"WARNING: {key} = {value} of {drawn} samples")


def _print_sample_scores(summary: dict) -> None:
    """Prints the digit classifier's scores (`sample_score`), when the run has them.

    One line per temperature's samples and one for the test digits.
    """
    prefixes = [
        key[: -len("_confident_share")]
        for key in summary
        if key.startswith("sample_score_") and key.endswith("_confident_share")
    ]
    for prefix in prefixes:
        share = summary[f"{prefix}_confident_share"]
        counts = summary[f"{prefix}_label_counts"]
        what = prefix[len("sample_score_") :]
        what = (
            "test digits"
            if what == "test"
            else f"samples at {what.replace('T', 'T = ')}"
        )
        histogram = " ".join(f"{k}:{n}" for k, n in enumerate(counts))
        print(
            f"digit classifier on {what}: {share:.1%} confident (p >= 0.9), "
            f"{summary[f'{prefix}_labels_present']} of {len(counts)} labels "
            f"present ({histogram})"
        )


if __name__ == "__main__":
    main(sys.argv[1:], restart=True, cache_compiles=True)
