"""The CLI (`python -m jinvnet.train`): the README main job, flags, and what a user
sees when a checkpoint cannot be written or read, or a run resumes."""

import json
import os
import shutil
import subprocess
import time

import pytest

from jinvnet import train
from jinvnet.train import __main__ as cli
from jinvnet.train import compile_cache, configs, huge_pages
from tests import processes


@pytest.mark.slow
def test_main_job_runs_a_few_steps(tmp_path, capsys):
    workdir = tmp_path / "main"
    summary = cli.main(
        [
            f"--config={cli.MAIN_JOB_CONFIG}",
            f"--workdir={workdir}",
            "--no_progress",
            "--config.train.num_steps=3",
            "--config.train.checkpoint_every=3",
            "--config.train.num_samples=4",
            "--config.train.sample_check_draws=16",
            "--config.train.eval_max_batches=1",
            "--config.train.baseline_max_examples=500",
            "--config.model.kwargs.steps_per_level=1",
            "--config.model.kwargs.hidden_channels=8",
        ]
    )
    out = capsys.readouterr().out
    assert "test bits/dim (variational bound):" in out  # the main job's q(u | k)
    assert "categorical baseline" in out
    assert summary["step"] == 3
    for name in ("samples_T1.0.png", "loss_curve.png", "summary.json", "checkpoints/3"):
        assert (workdir / name).exists(), name
    saved = json.loads((workdir / "summary.json").read_text())
    assert saved["dataset"] == configs.get_config(cli.MAIN_JOB_CONFIG).data.name
    assert saved["samples_drawn_T1.0"] == 16


def test_every_named_config_builds_its_model():
    for name in configs.CONFIGS:
        config = configs.get_config(name)
        assert train.build_model(config) is not None, name


def test_cli_exits_with_the_override_error():
    with pytest.raises(SystemExit, match="no field 'nm_steps'"):
        cli.main(["--config=digits_glow", "--config.train.nm_steps=3"])
    with pytest.raises(SystemExit, match="unrecognised arguments"):
        cli.main(["--config=digits_glow", "stray"])


def test_show_config_prints_the_overridden_config(capsys):
    cli.main(
        [
            "--config",
            "digits_cinc",
            "--config.model.kwargs.coupling_init=uniform",
            "--show_config",
        ]
    )
    out = capsys.readouterr().out
    assert "coupling_init: uniform" in out
    assert "factory: multiscale.cinc" in out


def test_raises_if_unknown_config():
    with pytest.raises(SystemExit, match="unknown config 'nope'; known configs: "):
        cli.main(["--config=nope"])


def test_help_lists_configs_and_override_syntax():
    text = cli._parser().format_help()
    assert "--config.train.num_steps" in text
    assert "digits_glow" in text


# A tiny model on the embedded digits: a run takes seconds after compilation.
_TINY = [
    "--config=digits_glow_single",
    "--no_progress",
    "--config.model.kwargs.num_steps=1",
    "--config.model.kwargs.hidden_channels=8",
    "--config.train.batch_size=8",
    "--config.train.init_batch_size=16",
    "--config.train.eval_batch_size=64",
    "--config.train.eval_max_batches=1",
    "--config.train.figures=False",
    "--config.train.tensorboard=False",
    "--config.train.log_every=1",
    "--config.train.checkpoint_every=2",
]


def _run_cli(args: list[str], *, timeout: float) -> subprocess.CompletedProcess:
    """`python -m jinvnet.train ARGS` in a fresh process sharing the XLA cache."""
    return processes.run_module("jinvnet.train", args, timeout=timeout)


def _writable(path) -> bool:
    probe = os.path.join(path, ".write_probe")
    try:
        os.mkdir(probe)
    except OSError:
        return False
    os.rmdir(probe)
    return True


@pytest.fixture
def unwritable():
    """Makes a folder unwritable: mode 0o555, or `chattr +i` where root ignores it."""
    undo = []

    def make(path):
        os.chmod(path, 0o555)
        undo.append(lambda: os.chmod(path, 0o755))
        if _writable(path):  # root: permission bits do not apply
            chattr = shutil.which("chattr")
            if (
                chattr is None
                or subprocess.run(
                    [chattr, "+i", str(path)], capture_output=True
                ).returncode
            ):
                pytest.skip("cannot make a folder unwritable here (root, no chattr +i)")
            undo.append(lambda: subprocess.run([chattr, "-i", str(path)], check=True))
            if _writable(path):
                pytest.skip("chattr +i does not stop writes on this file system")

    yield make
    for step in reversed(undo):
        step()


def _last_line(text: str) -> str:
    return text.strip().splitlines()[-1]


@pytest.mark.slow
def test_unwritable_checkpoint_folder_stops_at_first_save_without_hang(
    tmp_path, unwritable
):
    workdir = tmp_path / "run"
    checkpoints = workdir / "checkpoints"
    checkpoints.mkdir(parents=True)
    unwritable(checkpoints)
    start = time.monotonic()
    # Before the fix: the step-2 save failed in a background thread, training went
    # on, the step-4 save raised PermissionError and the process then hung ~300 s.
    result = _run_cli(
        [f"--workdir={workdir}", *_TINY, "--config.train.num_steps=6"], timeout=200
    )
    elapsed = time.monotonic() - start
    assert result.returncode != 0
    last = _last_line(result.stderr)
    assert last.startswith("jinvnet.train.checkpoint.CheckpointSaveError: "), last
    assert f"could not write checkpoint step 2 to {checkpoints}" in last, last
    records = [json.loads(line) for line in open(workdir / "metrics.jsonl")]
    assert max(record["step"] for record in records) == 2, records
    assert elapsed < 200


@pytest.mark.slow
def test_damaged_checkpoint_error_is_the_last_thing_printed(tmp_path):
    workdir = tmp_path / "run"
    args = [f"--workdir={workdir}", *_TINY, "--config.train.tensorboard=True"]
    cli.main([*args, "--config.train.num_steps=4"])
    damaged = list((workdir / "checkpoints").glob("[24]/state/d/*"))
    assert len(damaged) >= 2, damaged
    for path in damaged:
        path.write_bytes(b"")
    # Before the fix, tensorstore reads still in flight when orbax closed its event
    # loop printed dozens of "RuntimeError: Event loop is closed" tracebacks, often
    # after the CheckpointError.
    result = _run_cli([*args, "--config.train.num_steps=6"], timeout=200)
    assert result.returncode != 0
    last = _last_line(result.stderr)
    assert last.startswith("jinvnet.train.checkpoint.CheckpointError: "), last
    assert f"checkpoint step 4 in {workdir / 'checkpoints'}" in last, last
    assert "Event loop is closed" not in result.stderr
    # Nothing was moved or deleted when no step could be restored.
    assert all(path.exists() and path.stat().st_size == 0 for path in damaged)
    assert not (workdir / "checkpoints_damaged").exists()


def test_resume_is_announced(tmp_path, capsys):
    workdir = tmp_path / "run"
    cli.main([f"--workdir={workdir}", *_TINY, "--config.train.num_steps=2"])
    assert "resumed" not in capsys.readouterr().err
    cli.main([f"--workdir={workdir}", *_TINY, "--config.train.num_steps=4"])
    err = capsys.readouterr().err
    assert f"resumed from step 2 in {workdir / 'checkpoints'}" in err, err


def test_bad_values_stop_before_anything_runs(tmp_path):
    workdir = tmp_path / "run"
    for override, message in (
        ("--config.train.checkpoint_every=0", "train.checkpoint_every must be a"),
        ("--config.train.log_every=0", "train.log_every must be a"),
        ("--config.train.num_steps=0", "train.num_steps must be a"),
        ("--config.train.num_steps=-5", r"train.num_steps must be a .*got -5"),
    ):
        with pytest.raises(SystemExit, match=message):
            cli.main([f"--workdir={workdir}", *_TINY, override])
        assert not workdir.exists(), override


def _num_devices_printed(result) -> int:
    """The device count from the summary JSON, the last line the CLI prints."""
    assert result.returncode == 0, result.stderr[-2000:]
    return json.loads(result.stdout.strip().splitlines()[-1])["num_devices"]


@pytest.mark.slow
def test_cpu_devices_flag_default_and_environment(tmp_path):
    """--cpu_devices=N makes N CPU devices; without it, one per core as many as
    divide the batch sizes, unless XLA_FLAGS already set a count. A checkpoint
    written on 4 devices resumes on 1."""
    args = [*_TINY, "--config.train.num_steps=1", "--config.train.checkpoint_every=1"]
    env = {
        key: value for key, value in os.environ.items() if key != "JAX_NUM_CPU_DEVICES"
    }
    flags = env.get("XLA_FLAGS", "")
    runs = {
        "asked": ([f"--workdir={tmp_path / 'a'}", "--cpu_devices=4"], flags),
        "default": ([f"--workdir={tmp_path / 'b'}"], flags),
        "environment": (
            [f"--workdir={tmp_path / 'c'}"],
            f"{flags} --xla_force_host_platform_device_count=8",
        ),
    }
    counts = {}
    for name, (extra, xla_flags) in runs.items():
        result = processes.run_module(
            "jinvnet.train",
            [*args, *extra],
            timeout=300,
            env={**env, "XLA_FLAGS": xla_flags, "JAX_PLATFORMS": "cpu"},
        )
        counts[name] = _num_devices_printed(result)
    # _TINY: batch 8, eval batch 64.
    cores = train.parallel.usable_cores()
    expected = max(n for n in (1, 2, 4, 8) if n <= cores)
    assert counts == {"asked": 4, "default": expected, "environment": 8}
    # The 4-device run's checkpoint resumes on one device (the state is replicated).
    result = processes.run_module(
        "jinvnet.train",
        [*_TINY, "--config.train.num_steps=2", f"--workdir={tmp_path / 'a'}"]
        + ["--cpu_devices=1"],
        timeout=300,
        env={**env, "JAX_PLATFORMS": "cpu"},
    )
    assert _num_devices_printed(result) == 1
    assert "resumed from step 1" in result.stderr, result.stderr[-2000:]


def test_cpu_devices_that_cannot_be_made_stop_the_run(tmp_path):
    import jax

    workdir = tmp_path / "run"
    have = len(jax.local_devices(backend="cpu"))  # this process started JAX already
    with pytest.raises(SystemExit, match=f"JAX has already started with {have}"):
        cli.main([f"--workdir={workdir}", *_TINY, f"--cpu_devices={have + 1}"])
    with pytest.raises(SystemExit, match="positive integer or \"cores\", got '0'"):
        cli.main([f"--workdir={workdir}", *_TINY, "--cpu_devices=0"])
    with pytest.raises(SystemExit, match="got 'two'"):
        cli.main([f"--workdir={workdir}", *_TINY, "--cpu_devices=two"])
    assert not workdir.exists()


class _SideEffect(Exception):
    pass


class _Continued(Exception):
    pass


@pytest.mark.parametrize(
    "module, function, opt_out, keyword",
    [
        (huge_pages, "restart_with_huge_pages", "--no_huge_pages", "restart"),
        (compile_cache, "enable", "--no_compile_cache", "cache_compiles"),
    ],
)
def test_entry_point_changes_the_process_unless_told_not_to(
    monkeypatch, module, function, opt_out, keyword
):
    """The entry point's keyword (`restart`: huge pages; `cache_compiles`: the
    compilation cache) acts after the arguments are checked and before devices are
    made; the opt-out flag and `main(argv)` (called from a program) do not."""

    def side_effect():
        raise _SideEffect

    def devices(*args, **kwargs):
        raise _Continued

    monkeypatch.setattr(module, function, side_effect)
    monkeypatch.setattr(cli, "_make_cpu_devices", devices)
    args = ["--config=digits_glow_single", "--workdir=unused"]
    with pytest.raises(_SideEffect):
        cli.main(args, **{keyword: True})
    with pytest.raises(_Continued):
        cli.main([*args, opt_out], **{keyword: True})
    with pytest.raises(_Continued):
        cli.main(args)
    with pytest.raises(SystemExit):  # a bad override stops before either
        cli.main([*args, "--config.train.nm_steps=3"], **{keyword: True})
