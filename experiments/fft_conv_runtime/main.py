"""Seed 000 Fig. 2: FFT convolution forward / inverse / log-det runtime vs dense.

python -m experiments.fft_conv_runtime.main --output_dir /tmp/fft_conv_runtime
python -m experiments.fft_conv_runtime.main --quick --output_dir /tmp/smoke
"""

import argparse

from experiments.fft_conv_runtime import benchmark
from experiments.fft_conv_runtime.configs import default, quick


def main(argv: list[str] | None = None) -> list[dict]:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--output_dir", required=True, help="results.json, runtime.png")
    parser.add_argument("--quick", action="store_true", help="tiny sweep (smoke test)")
    parser.add_argument(
        "--dense_max_dim",
        type=int,
        default=None,
        help="largest n = c m^2 for the dense route (default from the config)",
    )
    args = parser.parse_args(argv)
    config = (quick if args.quick else default).get_config()
    if args.dense_max_dim is not None:
        config.dense_max_dim = args.dense_max_dim
    rows = benchmark.run(config, args.output_dir)
    print(benchmark.table(rows))
    return rows


if __name__ == "__main__":
    main()
