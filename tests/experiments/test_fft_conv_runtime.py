"""Smoke test: the FFT convolution runtime benchmark on a tiny sweep."""

import json
import os

import pytest

from experiments.fft_conv_runtime import main

pytestmark = pytest.mark.slow  # end to end; see docs/testing.md


def test_quick_sweep_writes_table_json_and_plot(tmp_path, capsys):
    rows = main.main(["--quick", "--output_dir", str(tmp_path)])
    assert {(r["channels"], r["size"]) for r in rows} == {(2, 4), (4, 4)}
    for row in rows:
        assert row["ms"]["log_det_rfft"] > 0
        assert "dense/fft inverse+log_det" in row["ratios"]  # n <= dense_max_dim
    out = capsys.readouterr().out
    assert "complex/rfft" in out and "| 4 | 4 |" in out
    with open(os.path.join(tmp_path, "results.json")) as f:
        assert len(json.load(f)["rows"]) == len(rows)
    assert os.path.getsize(os.path.join(tmp_path, "runtime.png")) > 0
