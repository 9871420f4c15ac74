"""Reversible networks: activation memory and step time vs depth (seed 004, issue 7).

python -m experiments.reversible_memory.main --output_dir /tmp/reversible_memory
python -m experiments.reversible_memory.main --quick --output_dir /tmp/smoke
"""

import os

from experiments import _cli
from experiments.reversible_memory import benchmark

CONFIGS_DIR = os.path.join(os.path.dirname(__file__), "configs")

main = _cli.benchmark_main(__doc__, CONFIGS_DIR, benchmark.run, benchmark.table)

if __name__ == "__main__":
    main()
