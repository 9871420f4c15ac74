"""Smoke test: train-step times of main-job variants, side by side."""

import pytest

from experiments.main_job import step_time

pytestmark = pytest.mark.slow  # compiles two train steps; see docs/testing.md


def test_times_each_variant_relative_to_the_first(monkeypatch):
    real = step_time.variant_config

    def tiny(variant):
        config = real(variant)
        config.model.kwargs.steps_per_level = 1
        config.model.kwargs.hidden_channels = 8
        config.train.batch_size = 8
        return config

    monkeypatch.setattr(step_time, "variant_config", tiny)
    rows = step_time.main(["--variants", "uniform,variational_small", "--repeats", "2"])
    assert [r["variant"] for r in rows] == ["uniform", "variational_small"]
    assert rows[0]["ratio"] == 1.0 and rows[0]["steps_in_main_job_time"] == 1800
    for row in rows:
        assert row["step_s"] > 0 and row["compile_s"] > 0
    expected = int(1800 * rows[0]["step_s"] / rows[1]["step_s"])
    assert abs(rows[1]["steps_in_main_job_time"] - expected) <= 30  # rounding
    assert tiny("variational_small").data.dequantizer_steps == 2
