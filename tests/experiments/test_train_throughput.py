"""Smoke test: the throughput benchmark runs end to end on tiny shapes."""

import json

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
