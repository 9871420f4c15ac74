"""Seed 001 Table 4: time to sample 100 images, sequential vs fast inverses.

python -m experiments.sampling_time.main --output_dir /tmp/sampling_time
python -m experiments.sampling_time.main --shapes cifar10 --hidden_channels 64
python -m experiments.sampling_time.main --quick --output_dir /tmp/smoke
"""

import argparse

from experiments.sampling_time import benchmark
from experiments.sampling_time.configs import default, quick


def main(argv: list[str] | None = None) -> list[dict]:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--output_dir", default=None, help="where results.json goes")
    parser.add_argument("--quick", action="store_true", help="tiny shapes (smoke test)")
    parser.add_argument("--shapes", default=None, help="comma list, e.g. cifar10")
    parser.add_argument("--models", default=None, help="comma list of presets")
    parser.add_argument(
        "--methods",
        default=None,
        help="comma list of inverse methods: scan,wavefront,fast",
    )
    parser.add_argument("--hidden_channels", type=int, default=None)
    parser.add_argument("--batch_size", type=int, default=None)
    parser.add_argument("--num_samples", type=int, default=None)
    parser.add_argument("--repeats", type=int, default=None)
    parser.add_argument(
        "--param_noise",
        type=float,
        default=None,
        help="std of the noise added to the invertible convolutions' parameters",
    )
    args = parser.parse_args(argv)
    config = (quick if args.quick else default).get_config()
    for field in ("shapes", "models", "methods"):
        value = getattr(args, field)
        if value:
            config[{"shapes": "shape_names"}.get(field, field)] = tuple(
                value.split(",")
            )
    for field in (
        "hidden_channels",
        "batch_size",
        "num_samples",
        "repeats",
        "param_noise",
    ):
        if getattr(args, field) is not None:
            config[field] = getattr(args, field)
    rows = benchmark.run(config, args.output_dir)
    print(benchmark.table(rows))
    return rows


if __name__ == "__main__":
    main()
