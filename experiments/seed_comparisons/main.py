"""The seeds' comparisons on the embedded 28x28 MNIST digits (mnist5k), CPU-sized.

One table per command; each full table takes at most 60 minutes on 2 CPU cores:

    python -m experiments.seed_comparisons.main --table cinc --workdir runs/seeds
    python -m experiments.seed_comparisons.main --table mintnet --workdir runs/seeds
    python -m experiments.seed_comparisons.main --table path --workdir runs/seeds
    python -m experiments.seed_comparisons.main --table iconvnet_flow \
        --workdir runs/seeds
    python -m experiments.seed_comparisons.main --table all --config smoke \
        --workdir /tmp/seeds_smoke                                  # CI, tiny
    python -m experiments.seed_comparisons.main --table cinc --measure 10 \
        --workdir /tmp/timing                     # step times, no training

Writes `<workdir>/<table>.json` and `<workdir>/<table>.md` and prints the
markdown; every run's folder holds the trainer's output and a result.json, and a
rerun reuses finished runs of the same config.
"""

import argparse
import logging
import os

import jax

from experiments.seed_comparisons import tables
from jinvnet import data
from jinvnet.train import config_cli

CONFIGS_DIR = os.path.join(os.path.dirname(__file__), "configs")


def _table_config(config, name: str, args: argparse.Namespace):
    """Applies --seeds and --num_steps to the table's section of the config."""
    section = config[name]
    if args.seeds is not None:
        section.seeds = tuple(int(s) for s in args.seeds.split(","))
    if args.num_steps is not None:
        if name == "path":
            section.experiment.train.num_steps = args.num_steps
            section.experiment.train.checkpoint_every = args.num_steps
        else:
            section.num_steps = args.num_steps
    return config


def _use_xla_cache(path: str) -> None:
    """Persistent XLA cache: seeds of one row share their compiled programs."""
    jax.config.update("jax_compilation_cache_dir", os.path.abspath(path))
    jax.config.update("jax_persistent_cache_min_compile_time_secs", 0)


def main(argv: list[str] | None = None) -> dict[str, dict]:
    """Parses flags, runs (or times) the chosen tables; returns their results."""
    parser = argparse.ArgumentParser(
        description=__doc__.splitlines()[0],
        epilog="--config=NAME (default, smoke) then --config.<field>=<value>",
        allow_abbrev=False,
    )
    parser.add_argument("--table", choices=(*tables.TABLES, "all"), required=True)
    parser.add_argument("--workdir", required=True)
    parser.add_argument("--seeds", default=None, help="comma list, e.g. 0,1,2")
    parser.add_argument("--num_steps", type=int, default=None)
    parser.add_argument("--rows", default=None, help="comma list of row keys")
    parser.add_argument(
        "--measure",
        type=int,
        default=0,
        help="time this many steps of each row (one seed) instead of training",
    )
    parser.add_argument("--budget_s", type=float, default=3600.0)
    parser.add_argument(
        "--xla_cache",
        default=None,
        help="persistent XLA cache folder (default <workdir>/xla_cache; '' = off)",
    )
    parser.add_argument("--progress", action="store_true")
    args, config_args = parser.parse_known_args(argv)

    def read_config():
        return config_cli.config_or_exit(
            config_args, default="default", configs_dir=CONFIGS_DIR
        )

    read_config()  # a bad --config or override stops here, before any work
    logging.basicConfig(level=logging.INFO)
    cache = (
        os.path.join(args.workdir, "xla_cache")
        if args.xla_cache is None
        else args.xla_cache
    )
    if cache:
        _use_xla_cache(cache)
    names = tables.TABLES if args.table == "all" else (args.table,)
    rows = tuple(args.rows.split(",")) if args.rows else None
    results = {}
    dataset = None
    for name in names:
        config = _table_config(read_config(), name, args)
        dataset = dataset or data.load(config.dataset)
        table = tables.build(config, name)
        if args.measure:
            result = tables.measure(
                table, dataset, args.measure, rows=rows, budget_s=args.budget_s
            )
            text = tables.timing_markdown(result)
        else:
            result = tables.run(
                table, args.workdir, dataset, rows=rows, progress=args.progress
            )
            text = tables.markdown(result)
        tables.write(result, args.workdir, timing=bool(args.measure))
        print(text)
        results[name] = result
    return results


if __name__ == "__main__":
    main()
