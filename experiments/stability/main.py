"""Stability of additive vs affine reversible networks (seed 004, issue 7).

python -m experiments.stability.main --output_dir /tmp/stability
python -m experiments.stability.main --config.num_steps=100 \
    --config.variants="(('classifier', 'affine', 'fd'),)" --output_dir /tmp/one
python -m experiments.stability.main --quick --output_dir /tmp/smoke
"""

import os

from experiments.stability import experiment
from jinvnet.train import config_cli

CONFIGS_DIR = os.path.join(os.path.dirname(__file__), "configs")


def main(argv: list[str] | None = None) -> list[dict]:
    parser = config_cli.experiment_parser(__doc__, CONFIGS_DIR)
    parser.add_argument("--output_dir", required=True, help="results.json, *.png")
    parser.add_argument("--quick", action="store_true", help="same as --config=quick")
    args, config = config_cli.parse_experiment_args(
        parser, argv, configs_dir=CONFIGS_DIR
    )
    rows = experiment.run(config, args.output_dir)
    print(experiment.table(rows))
    return rows


if __name__ == "__main__":
    main()
