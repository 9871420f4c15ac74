"""Seed 000 Table 1: train each rung of the path to invertibility and print the table.

    python -m experiments.path_to_invertibility.main --config smoke --workdir /tmp/p2i
    python -m experiments.path_to_invertibility.main --config default \
        --workdir /tmp/p2i --data_dir /path/to/tensorflow_datasets
"""

import logging
import os

from experiments.path_to_invertibility import train
from jinvnet.train import config_cli

CONFIGS_DIR = os.path.join(os.path.dirname(__file__), "configs")


def main(argv: list[str] | None = None) -> list[dict]:
    parser = config_cli.experiment_parser(__doc__, CONFIGS_DIR)
    parser.add_argument("--workdir", required=True, help="one subfolder per rung")
    parser.add_argument("--data_dir", default=None, help="TFDS data_dir (CIFAR-10)")
    parser.add_argument(
        "--rungs", default=None, help="comma-separated rung indices (default all)"
    )
    args, config = config_cli.parse_experiment_args(
        parser, argv, configs_dir=CONFIGS_DIR
    )
    logging.basicConfig(level=logging.INFO)
    if args.data_dir is not None:
        config.data.data_dir = args.data_dir
    if args.rungs is not None:
        config.rungs = tuple(int(i) for i in args.rungs.split(","))
    rows = train.run(config, args.workdir)
    print(train.table(rows))
    return rows


if __name__ == "__main__":
    main()
