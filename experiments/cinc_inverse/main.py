"""CInC inverse benchmark (issue 5): scan reference vs fast solvers, side by side.

python -m experiments.cinc_inverse.main
python -m experiments.cinc_inverse.main --config.train_model=False   # timing only
python -m experiments.cinc_inverse.main --quick   # smoke test
"""

import json
import os

from experiments.cinc_inverse import benchmark
from jinvnet.train import config_cli

CONFIGS_DIR = os.path.join(os.path.dirname(__file__), "configs")


def main(argv: list[str] | None = None) -> dict:
    parser = config_cli.experiment_parser(__doc__, CONFIGS_DIR)
    parser.add_argument("--quick", action="store_true", help="same as --config=quick")
    parser.add_argument("--output_dir", default=None, help="writes results.json")
    args, config = config_cli.parse_experiment_args(
        parser, argv, configs_dir=CONFIGS_DIR
    )
    rows = benchmark.time_inverses(config)
    print(benchmark.table(rows))
    results = {"timing": rows}
    if config.train_model:
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
