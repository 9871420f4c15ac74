"""Training throughput (images/s) of Glow, Emerging, CInC and CInC+quad flows.

python -m experiments.train_throughput.main --output_dir /tmp/train_throughput
python -m experiments.train_throughput.main --config.hidden_channels=512   # on a GPU
python -m experiments.train_throughput.main --quick                        # smoke test

Against the peer (issue 16's shape; torch and normflows in their own virtualenv):

python -m experiments.train_throughput.main --config.models=glow \
    --config.steps_per_level=8 --config.hidden_channels=128 --config.steps=5 \
    --config.peer_python=/tmp/peer/bin/python
"""

import os

from experiments.train_throughput import benchmark
from jinvnet.train import config_cli

CONFIGS_DIR = os.path.join(os.path.dirname(__file__), "configs")


def main(argv: list[str] | None = None) -> list[dict]:
    """Parses the flags and config, runs every preset in one process, prints a table."""
    parser = config_cli.experiment_parser(__doc__, CONFIGS_DIR)
    parser.add_argument("--output_dir", default=None, help="where results.json goes")
    parser.add_argument("--quick", action="store_true", help="same as --config=quick")
    args, config = config_cli.parse_experiment_args(
        parser, argv, configs_dir=CONFIGS_DIR
    )
    rows = benchmark.run(config, args.output_dir)
    print(benchmark.table(rows))
    return rows


if __name__ == "__main__":
    main()
