"""Stability of additive vs affine reversible networks (seed 004, issue 7).

python -m experiments.stability.main --output_dir /tmp/stability
python -m experiments.stability.main --quick --output_dir /tmp/smoke
"""

import argparse

from experiments.stability import experiment
from experiments.stability.configs import default, quick


def main(argv: list[str] | None = None) -> list[dict]:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--output_dir", required=True, help="results.json, *.png")
    parser.add_argument("--quick", action="store_true", help="tiny run (smoke test)")
    parser.add_argument("--num_steps", type=int, default=None, help="override steps")
    parser.add_argument(
        "--variants",
        default=None,
        help="override, e.g. classifier/additive/none,classifier/affine/fd",
    )
    args = parser.parse_args(argv)
    config = (quick if args.quick else default).get_config()
    if args.num_steps is not None:
        config.num_steps = args.num_steps
    if args.variants is not None:
        config.variants = tuple(tuple(v.split("/")) for v in args.variants.split(","))
    rows = experiment.run(config, args.output_dir)
    print(experiment.table(rows))
    return rows


if __name__ == "__main__":
    main()
