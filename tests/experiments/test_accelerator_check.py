"""The accelerator check on CPU: every section runs and reports; reruns reuse."""

import json

import pytest

from experiments.accelerator_check import main

pytestmark = pytest.mark.slow  # end to end through five benchmarks; docs/testing.md


def _text(tree) -> str:
    return json.dumps(tree, sort_keys=True, default=str)


def test_smoke_run_reports_every_section_and_resumes(tmp_path, monkeypatch):
    report = main.main(["--smoke", "--output_dir", str(tmp_path)])
    assert list(report["sections"]) == list(main.SECTIONS)
    for name, section in report["sections"].items():
        assert "error" not in section, section.get("error")
        assert section["rows"] and section["wall_s"] >= 0, name
    assert report["device"]["backend"] == "cpu"
    saved = json.loads((tmp_path / "results.json").read_text())
    assert saved["sections"].keys() == report["sections"].keys()
    text = (tmp_path / "results.md").read_text()
    for name, section in report["sections"].items():
        assert f"## {name} (" in text and section["table"].strip() in text
    # Mint rows are Algorithm 1 and Anderson, as configured for the smoke run.
    memories = [
        row["anderson_memory"]
        for row in report["sections"]["mintnet_inversion"]["rows"]
    ]
    assert memories == [1, 3]

    # A rerun reads every finished section from disk: nothing is measured again.
    def fail(config, output_dir):
        raise AssertionError("measured again")

    monkeypatch.setattr(
        main, "SECTIONS", {k: (c, fail) for k, (c, _) in main.SECTIONS.items()}
    )
    again = main.main(["--smoke", "--output_dir", str(tmp_path)])["sections"]
    assert _text(again) == _text(report["sections"])  # (NaN entries compare as text)


def test_a_failing_section_is_recorded_and_the_others_run(tmp_path, monkeypatch):
    def broken(config, output_dir):
        raise RuntimeError("no such device")

    sections = dict(main.SECTIONS)
    sections["cinc_inverse"] = (sections["cinc_inverse"][0], broken)
    monkeypatch.setattr(main, "SECTIONS", sections)
    argv = ["--smoke", "--output_dir", str(tmp_path)]
    report = main.main([*argv, "--sections", "cinc_inverse,train_throughput"])
    assert "RuntimeError: no such device" in report["sections"]["cinc_inverse"]["error"]
    assert report["sections"]["train_throughput"]["rows"]
    assert "FAILED" in (tmp_path / "results.md").read_text()
    assert not (tmp_path / "cinc_inverse" / "section.json").exists()  # retried next


def test_unknown_section_is_a_clear_error(tmp_path):
    with pytest.raises(SystemExit, match="unknown sections"):
        main.main(["--smoke", "--output_dir", str(tmp_path), "--sections", "gpu"])


def test_accelerator_settings_are_the_documented_ones():
    """The sizes the module docstring and issue 16 name (not the smoke ones)."""
    sampling = main.sampling_config(smoke=False)
    assert sampling.shape_names == ("cifar10",) and sampling.hidden_channels == 512
    assert sampling.shapes.cifar10 == ((32, 32, 3), 3, 32)
    assert sampling.num_samples == 100 and sampling.models == ("glow", "cinc")
    cinc = main.cinc_config(smoke=False)
    assert set(cinc.methods) == {"scan", "rows", "wavefront", "filter"}
    assert tuple(cinc.batches) == (100, 1)
    throughput = main.throughput_config(smoke=False)
    assert (throughput.num_levels, throughput.steps_per_level) == (3, 8)
    assert (throughput.hidden_channels, throughput.batch_size) == (128, 64)
    assert throughput.models == ("glow", "cinc")
    mint = main.mint_config(smoke=False)
    assert tuple(mint.anderson_memories) == (1, 3, 8)
