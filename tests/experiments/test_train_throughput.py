"""Smoke test: the throughput benchmark runs end to end on tiny shapes."""

import argparse
import importlib
import json
import os
import pathlib
import subprocess
import sys

import jax
import ml_collections
import numpy as np
import pytest

from experiments.train_throughput import benchmark, compile_parts, main

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


def test_learned_base_rows_are_the_peers_model(tmp_path):
    from experiments.train_throughput.benchmark import base_options

    argv = ["--quick", "--config.models=glow", "--config.variants=scan"]
    argv += ["--config.bases=split_prior", "--config.bases=learned"]
    rows = main.main([*argv, "--output_dir", str(tmp_path)])
    assert [r["model"] for r in rows] == ["glow (scan)", "glow (scan, learned base)"]
    assert all(r["loss_finite"] for r in rows)
    # The learned base is a mean and a log-scale per latent entry (8 x 8 x 3) on
    # top of the flow without split priors.
    no_prior = _param_count((8, 8, 3), 2, 1, 8, split_prior=False)
    assert rows[1]["params"] == no_prior + 2 * 8 * 8 * 3
    with pytest.raises(ValueError, match="unknown base 'conditional'"):
        base_options("conditional")


def _param_count(shape, levels, steps, width, **kwargs) -> int:
    from jinvnet import models
    from jinvnet.models import multiscale

    flow = multiscale.glow(
        num_levels=levels, steps_per_level=steps, hidden_channels=width, **kwargs
    )
    x = jax.ShapeDtypeStruct((2, *shape), np.float32)
    shapes = jax.eval_shape(models.FlowDensity(flow).init, jax.random.PRNGKey(0), x)
    return sum(
        int(np.prod(a.shape)) for a in jax.tree_util.tree_leaves(shapes["params"])
    )


def test_learned_base_glow_has_the_peers_parameter_count():
    # normflows 1.7.3's multi-scale Glow (3 levels x 8 GlowBlocks, hidden 128,
    # a DiagGaussian per level) at 3 x 32 x 32 counts 1,617,792 parameters
    # (peer_normflows.py's "params"); ours with the "learned" base must match.
    from experiments.train_throughput.benchmark import base_options

    count = _param_count((32, 32, 3), 3, 8, 128, **base_options("learned"))
    assert count == 1_617_792


def test_local_gradients_on_two_devices_equal_the_trainers():
    # A fresh process with two CPU devices: one device would not test the pmean.
    code = (
        "from experiments.train_throughput import local_gradients as m; "
        "import json; print(json.dumps(m.main(['--levels', '2', "
        "'--steps_per_level', '1', '--hidden', '8', '--batch', '4', '--size', '8', "
        "'--repeats', '1'])))"
    )
    root = pathlib.Path(__file__).resolve().parents[2]
    env = {k: v for k, v in os.environ.items() if k != "JAX_NUM_CPU_DEVICES"}
    env.update(
        JAX_PLATFORMS="cpu",
        PYTHONPATH=str(root),
        XLA_FLAGS="--xla_force_host_platform_device_count=2",
    )
    out = subprocess.run(
        [sys.executable, "-c", code],
        cwd=root,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert out.returncode == 0, out.stderr[-3000:]
    result = json.loads(out.stdout.strip().splitlines()[-1])
    assert result["devices"] == 2
    # Float32 sums in another order; a missing or doubled average is O(1).
    assert result["gradient_difference"] < 1e-5
    assert all(s > 0 for s in result["median_s"].values())


def test_huge_pages_comparison_runs_both_settings(tmp_path):
    # Our step only (the peer needs torch): one process per setting, each checked
    # (inside `_ours`) to have run with the environment of its setting.
    from experiments.train_throughput import huge_pages

    output = tmp_path / "huge_pages.json"
    argv = ["--rounds", "1", "--steps", "1", "--hidden", "8", "--blocks", "1"]
    huge_pages.main([*argv, "--output", str(output)])
    saved = json.loads(output.read_text())
    times = saved["step_s"]
    assert list(times) == ["ours"] and sorted(times["ours"]) == ["default", "hugetlb=1"]
    assert all(len(t) == 1 and t[0] > 0 for t in times["ours"].values())
    medians = saved["median_step_s"]["ours"]
    assert saved["ratios"] == {
        "ours default / hugetlb=1": medians["default"] / medians["hugetlb=1"]
    }


def test_compile_cache_comparison_runs_cold_then_warm(tmp_path):
    # One quick model, one round: a process with an empty cache, then one with it.
    from experiments.train_throughput import compile_cache

    output = tmp_path / "compile_cache.json"
    argv = ["--config", "quick", "--models", "glow", "--rounds", "1", "--steps", "1"]
    compile_cache.main([*argv, "--output", str(output)])
    saved = json.loads(output.read_text())
    runs = saved["runs"]["glow"]
    assert sorted(runs) == ["cold", "warm"]
    for (times,) in runs.values():
        assert times["compile_s"] == times["first_step_s"] - times["step_s"]
        assert times["step_s"] > 0
    medians = saved["medians"]["glow"]
    assert saved["cold_over_warm_compile"]["glow"] == (
        medians["cold"]["compile_s"] / medians["warm"]["compile_s"]
    )


def test_compile_parts_times_each_option_set_on_the_same_step(tmp_path):
    # One quick model, one round, one extra option set: both compile and run the
    # same train step.
    output = tmp_path / "parts.json"
    argv = ["--config", "quick", "--models", "glow", "--rounds", "1", "--steps", "1"]
    argv += ["--option_set", "O1=xla_backend_optimization_level:1"]
    compile_parts.main([*argv, "--output", str(output)])
    saved = json.loads(output.read_text())
    assert saved["option_sets"] == {
        "default": {},
        "O1": {"xla_backend_optimization_level": 1},
    }
    sets = saved["models"]["glow"]
    assert sorted(sets) == ["O1", "default"]
    for times in sets.values():
        (parts,) = times["rounds"]
        for part in ("trace_s", "lower_s", "compile_s"):
            assert times[part] == parts[part] > 0
        assert times["step_s"] > 0
    np.testing.assert_allclose(sets["O1"]["loss"], sets["default"]["loss"], rtol=1e-5)


def test_compile_parts_has_a_row_per_depth(tmp_path):
    # --depth builds the model with that many steps per level (build_flow's
    # steps_per_level wins over the config's): one row per depth.
    output = tmp_path / "depths.json"
    argv = ["--config", "quick", "--models", "glow", "--rounds", "1", "--steps", "1"]
    compile_parts.main([*argv, "--depth", "1", "--depth", "2", "--output", str(output)])
    saved = json.loads(output.read_text())
    assert sorted(saved["models"]) == ["glow D=1", "glow D=2"]
    for row in saved["models"].values():
        assert row["default"]["compile_s"] > 0 and row["default"]["step_s"] > 0
    config = importlib.import_module(
        "experiments.train_throughput.configs.quick"
    ).get_config()
    one, two = (benchmark.build_flow("glow", config, steps_per_level=d) for d in (1, 2))
    assert one.steps_per_level == 1 and two.steps_per_level == 2


@pytest.mark.parametrize(
    "text, expected",
    [
        ("a=x:1", ("a", {"x": 1})),
        ("b=x:true,y:-2,z:fast", ("b", {"x": True, "y": -2, "z": "fast"})),
    ],
)
def test_option_set_parses_names_and_values(text, expected):
    assert compile_parts.option_set(text) == expected


@pytest.mark.parametrize("text", ["x:1", "a=", "a=x", "a=:1"])
def test_option_set_refuses_malformed_text(text):
    with pytest.raises(argparse.ArgumentTypeError, match="expected"):
        compile_parts.option_set(text)


@pytest.mark.parametrize(
    "cpu_devices, expected",
    [(3, ("set_cpu_devices", 3)), (0, ("default_cpu_devices", [6]))],
)
def test_use_devices_honours_the_configs_cpu_devices(
    monkeypatch, cpu_devices, expected
):
    # benchmark.run and compile_parts.run both split the CPU through use_devices:
    # a config's cpu_devices wins, else one device per core that the batch divides.
    from jinvnet.train import parallel

    calls = []
    monkeypatch.setattr(
        parallel, "set_cpu_devices", lambda n: calls.append(("set_cpu_devices", n))
    )
    monkeypatch.setattr(
        parallel,
        "default_cpu_devices",
        lambda s: calls.append(("default_cpu_devices", s)),
    )
    config = ml_collections.ConfigDict({"cpu_devices": cpu_devices, "batch_size": 6})
    benchmark.use_devices(config)
    assert calls == [expected]


class _Chosen(Exception):
    pass


@pytest.mark.parametrize("script", ["benchmark", "compile_parts"])
def test_both_scripts_choose_devices_through_use_devices(monkeypatch, script):
    def chosen(config):
        raise _Chosen(config.cpu_devices)

    monkeypatch.setattr(benchmark, "use_devices", chosen)
    config = importlib.import_module(
        "experiments.train_throughput.configs.quick"
    ).get_config()
    with pytest.raises(_Chosen):
        if script == "benchmark":
            benchmark.run(config, None)
        else:
            compile_parts.run(argparse.Namespace(config="quick", option_set=None))
