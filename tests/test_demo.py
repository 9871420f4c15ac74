"""Smoke test of the demo main job: a few steps, finite bits/dim."""

import logging

from jinvnet import demo


def test_demo_runs_a_few_steps(caplog):
    with caplog.at_level(logging.INFO):
        demo.main(["--steps", "2", "--batch_size", "8", "--num_steps_flow", "1"])
    text = caplog.text
    assert "test bits/dim" in text and "nan" not in text.lower()
