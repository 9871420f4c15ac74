"""Seed 000 Fig. 2: FFT convolution forward / inverse / log-det runtime vs dense.

python -m experiments.fft_conv_runtime.main --output_dir /tmp/fft_conv_runtime
python -m experiments.fft_conv_runtime.main --config.dense_max_dim=1024 \
    --output_dir /tmp/fft_conv_runtime   # a smaller dense route
python -m experiments.fft_conv_runtime.main --quick --output_dir /tmp/smoke
"""

import os

from experiments.fft_conv_runtime import benchmark
from jinvnet.train import config_cli

CONFIGS_DIR = os.path.join(os.path.dirname(__file__), "configs")


def main(argv: list[str] | None = None) -> list[dict]:
    parser = config_cli.experiment_parser(__doc__, CONFIGS_DIR)
    parser.add_argument("--output_dir", required=True, help="results.json, runtime.png")
    parser.add_argument("--quick", action="store_true", help="same as --config=quick")
    args, config = config_cli.parse_experiment_args(
        parser, argv, configs_dir=CONFIGS_DIR
    )
    rows = benchmark.run(config, args.output_dir)
    print(benchmark.table(rows))
    return rows


if __name__ == "__main__":
    main()
