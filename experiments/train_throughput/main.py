"""Training throughput (images/s) of Glow, Emerging, CInC and CInC+quad flows.

python -m experiments.train_throughput.main --output_dir /tmp/train_throughput
python -m experiments.train_throughput.main --config.hidden_channels=512   # on a GPU
python -m experiments.train_throughput.main --quick                        # smoke test

Against the peer (issue 16's shape; torch and normflows in their own virtualenv):

python -m experiments.train_throughput.main --config.models=glow \
    --config.steps_per_level=8 --config.hidden_channels=128 --config.steps=5 \
    --config.peer_python=/tmp/peer/bin/python
"""

import os

from experiments import _cli
from experiments.train_throughput import benchmark

CONFIGS_DIR = os.path.join(os.path.dirname(__file__), "configs")

main = _cli.benchmark_main(
    __doc__, CONFIGS_DIR, benchmark.run, benchmark.table, output_dir_required=False
)

if __name__ == "__main__":
    main()
