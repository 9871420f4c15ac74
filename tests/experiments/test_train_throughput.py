"""Smoke test: the throughput benchmark runs end to end on tiny shapes."""

import json

import jax
import numpy as np
import pytest

from experiments.train_throughput import main

pytestmark = pytest.mark.slow  # end to end; see docs/testing.md


def test_quick_run_writes_rows_with_ratios(tmp_path):
    rows = main.main(["--quick", "--output_dir", str(tmp_path)])
    saved = json.loads((tmp_path / "results.json").read_text())
    assert [r["model"] for r in saved["rows"]] == ["glow", "cinc"]
    glow = rows[0]
    assert glow["images_per_s"] > 0 and glow["ratio_to_glow"] == 1.0
    assert all(("images_per_s" in r) or ("error" in r) for r in rows)


def test_scan_variants_are_rows_of_their_own(tmp_path):
    argv = ["--quick", "--config.models=glow", "--config.variants=unrolled"]
    rows = main.main([*argv, "--config.variants=scan2", "--output_dir", str(tmp_path)])
    assert [r["model"] for r in rows] == ["glow", "glow (scan2)"]
    assert rows[0]["params"] == rows[1]["params"]  # same model, another layout
    assert all(r["loss_finite"] for r in rows)


def test_variant_names():
    from experiments.train_throughput.benchmark import scan_options

    assert scan_options("unrolled") == {"scan_steps": False}
    assert scan_options("scan") == {"scan_steps": True, "scan_unroll": 1}
    assert scan_options("scan8") == {"scan_steps": True, "scan_unroll": 8}
    with pytest.raises(ValueError, match="unknown variant 'scanx'"):
        scan_options("scanx")


def test_conv_in_loop_times_four_paths_that_agree():
    from experiments.train_throughput import conv_in_loop

    result = conv_in_loop.main(
        ["--depth", "3", "--batch", "2", "--size", "4", "--channels", "3"]
        + ["--repeats", "1"]
    )
    assert len(result["median_s"]) == 4
    assert all(s > 0 for s in result["median_s"].values())
    kernels = jax.random.normal(jax.random.PRNGKey(1), (3, 3, 3, 3, 3)) * 0.1
    x = jax.random.normal(jax.random.PRNGKey(0), (2, 4, 4, 3))
    reference = conv_in_loop.gradient(3, scan=False, gemm=False)(kernels, x)
    for scan, gemm in ((True, False), (False, True), (True, True)):
        other = conv_in_loop.gradient(3, scan=scan, gemm=gemm)(kernels, x)
        for a, b in zip(reference, other):
            np.testing.assert_allclose(a, b, rtol=1e-4, atol=1e-5)
