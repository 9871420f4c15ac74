"""Seed 000 Fig. 2: FFT convolution forward / inverse / log-det runtime vs dense.

python -m experiments.fft_conv_runtime.main --output_dir /tmp/fft_conv_runtime
python -m experiments.fft_conv_runtime.main --config.dense_max_dim=1024 \
    --output_dir /tmp/fft_conv_runtime   # a smaller dense route
python -m experiments.fft_conv_runtime.main --quick --output_dir /tmp/smoke
"""

import os

from experiments import _cli
from experiments.fft_conv_runtime import benchmark

CONFIGS_DIR = os.path.join(os.path.dirname(__file__), "configs")

main = _cli.benchmark_main(__doc__, CONFIGS_DIR, benchmark.run, benchmark.table)

if __name__ == "__main__":
    main()
