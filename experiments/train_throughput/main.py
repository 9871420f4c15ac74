"""Training throughput (images/s) of Glow, Emerging, CInC and CInC+quad flows.

python -m experiments.train_throughput.main --output_dir /tmp/train_throughput
python -m experiments.train_throughput.main --hidden_channels 512   # on a GPU
python -m experiments.train_throughput.main --quick                 # smoke test

Against the peer (issue 16's shape; torch and normflows in their own virtualenv):

python -m experiments.train_throughput.main --models glow --steps_per_level 8 \
    --hidden_channels 128 --steps 5 --peer_python /tmp/peer/bin/python
"""

import argparse

from experiments.train_throughput import benchmark
from experiments.train_throughput.configs import default, quick


def main(argv: list[str] | None = None) -> list[dict]:
    """Parses flags, runs every preset in one process, prints a table."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--output_dir", default=None, help="where results.json goes")
    parser.add_argument("--quick", action="store_true", help="tiny shapes (smoke test)")
    parser.add_argument("--models", default=None, help="comma list of presets")
    parser.add_argument("--hidden_channels", type=int, default=None)
    parser.add_argument("--batch_size", type=int, default=None)
    parser.add_argument("--steps", type=int, default=None)
    parser.add_argument("--steps_per_level", type=int, default=None)
    parser.add_argument("--peer_python", default=None, help="torch + normflows venv")
    parser.add_argument("--peer_threads", type=int, default=None)
    args = parser.parse_args(argv)
    config = (quick if args.quick else default).get_config()
    if args.models:
        config.models = tuple(args.models.split(","))
    fields = ("hidden_channels", "batch_size", "steps", "steps_per_level")
    for field in (*fields, "peer_python", "peer_threads"):
        if getattr(args, field) is not None:
            config[field] = getattr(args, field)
    rows = benchmark.run(config, args.output_dir)
    print(benchmark.table(rows))
    return rows


if __name__ == "__main__":
    main()
