"""Smoke test: the CInC inverse benchmark on tiny shapes and two training steps."""

import json
import os

import pytest

from experiments.cinc_inverse import main

pytestmark = pytest.mark.slow  # end to end; see docs/testing.md


def test_quick_run_prints_tables_and_writes_json(tmp_path, capsys):
    results = main.main(["--quick", "--output_dir", str(tmp_path)])
    methods = {row["method"] for row in results["timing"]}
    assert methods == {"scan", "rows", "wavefront", "filter", "forward"}
    for row in results["timing"]:
        assert row["ms"] > 0
        if row["method"] == "forward":  # the floor: timed, not an inverse
            assert row["error_vs_scan"] is None
        else:
            assert row["error_vs_scan"] < 1e-5 and row["error_vs_x"] < 1e-5
    trained = results["trained"]
    assert len(trained["layers"]) == 2
    assert all(error < 1e-5 for error in trained["flow_round_trip"].values())
    out = capsys.readouterr().out
    assert "x vs scan" in out and "whole-flow round trip" in out
    with open(os.path.join(tmp_path, "results.json")) as f:
        assert len(json.load(f)["timing"]) == 5
