"""Reversible networks: activation memory and step time vs depth (seed 004, issue 7).

python -m experiments.reversible_memory.main --output_dir /tmp/reversible_memory
python -m experiments.reversible_memory.main --quick --output_dir /tmp/smoke
"""

import os

from experiments.reversible_memory import benchmark
from jinvnet.train import config_cli

CONFIGS_DIR = os.path.join(os.path.dirname(__file__), "configs")


def main(argv: list[str] | None = None) -> list[dict]:
    parser = config_cli.experiment_parser(__doc__, CONFIGS_DIR)
    parser.add_argument("--output_dir", required=True, help="results.json, memory.png")
    parser.add_argument("--quick", action="store_true", help="same as --config=quick")
    args, config = config_cli.parse_experiment_args(
        parser, argv, configs_dir=CONFIGS_DIR
    )
    rows = benchmark.run(config, args.output_dir)
    print(benchmark.table(rows))
    return rows


if __name__ == "__main__":
    main()
