"""Smoke test of experiments/seed_comparisons: every table end to end, tiny sizes."""

import glob
import json
import math
import os

import numpy as np
import pytest

from experiments.seed_comparisons import main, tables
from experiments.seed_comparisons.configs import smoke
from jinvnet import data

pytestmark = pytest.mark.slow  # end to end; see docs/testing.md


@pytest.fixture(scope="module")
def workdir(tmp_path_factory):
    """Runs all four tables once with the smoke config (the suite's XLA cache)."""
    path = tmp_path_factory.mktemp("seed_comparisons")
    main.main(
        ["--table", "all", "--config", "smoke", "--workdir", str(path)]
        + ["--xla_cache", ""]
    )
    return path


def _result(workdir, name):
    with open(workdir / f"{name}.json") as f:
        result = json.load(f)
    markdown = (workdir / f"{name}.md").read_text()
    return result, markdown


@pytest.mark.parametrize("name", tables.TABLES)
def test_every_row_is_in_the_json_and_the_markdown(workdir, name):
    result, markdown = _result(workdir, name)
    expected = tables.build(smoke.get_config(), name).rows
    assert [row["key"] for row in result["rows"]] == [row.key for row in expected]
    for row in expected:
        assert f"| {row.group} | {row.label} | " in markdown, row.label
    assert f"- {expected[0].group}: ours: " in markdown  # the ordering


@pytest.mark.parametrize("name", tables.TABLES)
def test_numbers_are_finite_and_in_range(workdir, name):
    result, _ = _result(workdir, name)
    for row in result["rows"]:
        assert len(row["values"]) == len(result["seeds"])
        for value in (*row["values"], row["mean"], *row["wall_s"]):
            assert math.isfinite(value), row["key"]
        assert row["params"] > 0 and 0 < row["free_params"] <= row["params"]
        if row["metric"] == "accuracy":
            assert all(0.0 <= v <= 100.0 for v in row["values"])
        else:
            assert all(v > 0.0 for v in row["values"])
        if len(row["values"]) > 1:
            assert math.isfinite(row["std"])
        else:
            assert row["std"] is None
    assert all(math.isfinite(v) for v in result["baselines"].values())


def test_mean_and_std_over_seeds_match_numpy_on_the_per_run_files(workdir):
    result, markdown = _result(workdir, "cinc")
    assert result["seeds"] == [0, 1]
    for row in result["rows"]:
        files = sorted(glob.glob(str(workdir / "cinc" / row["key"] / "*/result.json")))
        assert len(files) == 2, row["key"]
        values = []
        for path in files:
            with open(path) as f:
                values.append(json.load(f)["value"])
        np.testing.assert_allclose(row["mean"], np.mean(values), rtol=1e-12)
        np.testing.assert_allclose(row["std"], np.std(values, ddof=1), rtol=1e-12)
        assert f"{row['mean']:.3f} ± {row['std']:.3f}" in markdown


def test_baselines_match_a_direct_computation(workdir):
    result, markdown = _result(workdir, "path")
    dataset = data.load("mnist5k")
    train = dataset.train.get(np.arange(len(dataset.train)))
    test = dataset.test.get(np.arange(len(dataset.test)))
    categorical = data.categorical_baseline_bits_per_dim(
        train["image"], test["image"], dataset.num_bins
    )
    majority = np.argmax(np.bincount(train["label"]))
    accuracy = 100.0 * np.mean(test["label"] == majority)
    baselines = result["baselines"]
    np.testing.assert_allclose(baselines["categorical_bits_per_dim"], categorical)
    np.testing.assert_allclose(baselines["majority_accuracy"], accuracy)
    assert f"{categorical:.3f} bits/dim" in markdown
    assert f"{accuracy:.1f} (majority class)" in markdown


@pytest.mark.parametrize(
    "name, numbers",
    [
        ("cinc", ["3.52", "3.49", "3.47", "3.46", "4.3", "4.18", "3.3498", "3.3471"]),
        ("mintnet", ["0.98", "1.05", "99.6"]),
        ("path", ["94.6", "93", "92", "92.5", "92.6"]),
        ("iconvnet_flow", ["4.61", "3.35"]),
    ],
)
def test_the_seeds_numbers_are_written(workdir, name, numbers):
    result, markdown = _result(workdir, name)
    assert result["seed_numbers"] == json.loads(json.dumps(tables.SEED_NUMBERS[name]))
    for number in numbers:
        assert f" {number}" in markdown, number
    for row in result["rows"]:
        for column, value in row["seed_numbers"].items():
            assert column in markdown and f"{value:g}" in markdown


def test_path_diffs_are_to_the_row_the_seed_modifies(workdir):
    result, _ = _result(workdir, "path")
    by_key = {row["key"]: row for row in result["rows"]}
    assert by_key["rung_0_maxpool"]["reference"] is None
    assert by_key["rung_5_iavgpool"]["reference"] == "rung_2_maxpool"


def test_a_rerun_reuses_the_finished_runs(workdir):
    before, _ = _result(workdir, "iconvnet_flow")
    after = main.main(
        ["--table", "iconvnet_flow", "--config", "smoke", "--workdir", str(workdir)]
        + ["--xla_cache", ""]
    )["iconvnet_flow"]
    for old, new in zip(before["rows"], after["rows"]):
        assert new["values"] == old["values"] and new["wall_s"] == old["wall_s"]


def test_the_glow_comparator_is_trained_once_for_both_tables(workdir):
    runs = glob.glob(str(workdir / "shared" / "glow_d8_no_logit" / "*"))
    assert len(runs) == 1, runs
    mintnet, _ = _result(workdir, "mintnet")
    iconvnet_flow, _ = _result(workdir, "iconvnet_flow")
    values = [
        {row["key"]: row["values"] for row in result["rows"]}["glow_d8_no_logit"]
        for result in (mintnet, iconvnet_flow)
    ]
    assert values[0] == values[1]


def test_measure_times_steps_and_projects_the_table(tmp_path):
    results = main.main(
        ["--table", "path", "--config", "smoke", "--workdir", str(tmp_path)]
        + ["--xla_cache", "", "--measure", "1", "--rows", "rung_0_maxpool"]
    )
    timing = results["path"]
    (row,) = timing["rows"]
    assert row["key"] == "rung_0_maxpool" and row["step_s"] > 0
    assert timing["projected_s"] >= row["fixed_s"] > 0
    assert os.path.exists(tmp_path / "path_timing.md")


def test_unknown_rows_raise_before_training():
    table = tables.build(smoke.get_config(), "cinc")
    with pytest.raises(ValueError, match="unknown rows"):
        tables.run(table, "/nonexistent", None, rows=("glow_d9",))


def test_ranking_marks_ties_within_one_std():
    items = [("a", 1.50, 0.01), ("b", 1.40, 0.02), ("c", 1.41, 0.02)]
    assert tables.ranking(items, "bits_per_dim") == "b (1.400) ≈ c (1.410) < a (1.500)"
    accuracy = [("x", 90.0, None), ("y", 95.0, None), ("z", 95.0, None)]
    text = tables.ranking(accuracy, "accuracy", seed=True)
    assert text == "y (95) = z (95) > x (90)"


def test_run_identity_ignores_fields_that_cannot_change_a_table_run():
    table = tables.build(smoke.get_config(), "mintnet")
    row = table.rows[0]
    plain = tables._rundir("w", table, row, 0)
    original = row.make

    def toggled(seed):
        config = original(seed)
        config.train.sample_score = not config.train.sample_score
        return config

    assert tables._rundir("w", table, row._replace(make=toggled), 0) == plain

    def longer(seed):
        config = original(seed)
        config.train.num_steps += 1
        return config

    assert tables._rundir("w", table, row._replace(make=longer), 0) != plain
