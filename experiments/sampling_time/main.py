"""Seed 001 Table 4: time to sample 100 images, sequential vs fast inverses.

python -m experiments.sampling_time.main --output_dir /tmp/sampling_time
python -m experiments.sampling_time.main --config.shape_names=cifar10 \
    --config.hidden_channels=512 --config.methods=fast   # the seed's width
python -m experiments.sampling_time.main --quick --output_dir /tmp/smoke

Every setting is a field of configs/default.py (`--config.<field>=<value>`; a
tuple field takes the flag once per item, e.g. `--config.models=glow
--config.models=cinc`).
"""

import os

from experiments import _cli
from experiments.sampling_time import benchmark

CONFIGS_DIR = os.path.join(os.path.dirname(__file__), "configs")

main = _cli.benchmark_main(
    __doc__, CONFIGS_DIR, benchmark.run, benchmark.table, output_dir_required=False
)

if __name__ == "__main__":
    main()
