"""Seed 001 Table 4: time to sample 100 images, sequential vs fast inverses.

python -m experiments.sampling_time.main --output_dir /tmp/sampling_time
python -m experiments.sampling_time.main --config.shape_names=cifar10 \
    --config.hidden_channels=512 --config.methods=fast   # the seed's width
python -m experiments.sampling_time.main --quick --output_dir /tmp/smoke

Every setting is a field of configs/default.py (`--config.<field>=<value>`; a
tuple field takes the flag once per item, e.g. `--config.models=glow
--config.models=cinc`).
"""

import os

from experiments.sampling_time import benchmark
from jinvnet.train import config_cli

CONFIGS_DIR = os.path.join(os.path.dirname(__file__), "configs")


def main(argv: list[str] | None = None) -> list[dict]:
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
