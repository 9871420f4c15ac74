"""Stability of additive vs affine reversible networks (seed 004, issue 7).

python -m experiments.stability.main --output_dir /tmp/stability
python -m experiments.stability.main --config.num_steps=100 \
    --config.variants="(('classifier', 'affine', 'fd'),)" --output_dir /tmp/one
python -m experiments.stability.main --quick --output_dir /tmp/smoke
"""

import os

from experiments import _cli
from experiments.stability import experiment

CONFIGS_DIR = os.path.join(os.path.dirname(__file__), "configs")

main = _cli.benchmark_main(__doc__, CONFIGS_DIR, experiment.run, experiment.table)

if __name__ == "__main__":
    main()
