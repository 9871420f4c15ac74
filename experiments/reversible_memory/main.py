"""Reversible networks: activation memory and step time vs depth (seed 004, issue 7).

python -m experiments.reversible_memory.main --output_dir /tmp/reversible_memory
python -m experiments.reversible_memory.main --quick --output_dir /tmp/smoke
"""

import argparse

from experiments.reversible_memory import benchmark
from experiments.reversible_memory.configs import default, quick, small

CONFIGS = {"default": default, "small": small, "quick": quick}


def main(argv: list[str] | None = None) -> list[dict]:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--output_dir", required=True, help="results.json, memory.png")
    parser.add_argument("--config", choices=sorted(CONFIGS), default="default")
    parser.add_argument("--quick", action="store_true", help="same as --config quick")
    args = parser.parse_args(argv)
    config = CONFIGS["quick" if args.quick else args.config].get_config()
    rows = benchmark.run(config, args.output_dir)
    print(benchmark.table(rows))
    return rows


if __name__ == "__main__":
    main()
