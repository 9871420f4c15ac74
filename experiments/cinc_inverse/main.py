"""CInC inverse benchmark (issue 5): scan reference vs fast solvers, side by side.

python -m experiments.cinc_inverse.main
python -m experiments.cinc_inverse.main --quick   # smoke test
"""

import argparse
import json
import os

from experiments.cinc_inverse import benchmark
from experiments.cinc_inverse.configs import default, quick


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="tiny sizes (smoke test)")
    parser.add_argument("--output_dir", default=None, help="writes results.json")
    parser.add_argument(
        "--skip_training", action="store_true", help="timing only (no trained model)"
    )
    args = parser.parse_args(argv)
    config = (quick if args.quick else default).get_config()
    rows = benchmark.time_inverses(config)
    print(benchmark.table(rows))
    results = {"timing": rows}
    if not args.skip_training:
        report = benchmark.train_and_check(config)
        print()
        print(benchmark.trained_table(report))
        results["trained"] = report
    if args.output_dir:
        os.makedirs(args.output_dir, exist_ok=True)
        with open(os.path.join(args.output_dir, "results.json"), "w") as f:
            json.dump(results, f, indent=1, default=str)
    return results


if __name__ == "__main__":
    main()
