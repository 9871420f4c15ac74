"""The README's example runs as written, and CI runs the README's test command."""

import pathlib
import re
import subprocess
import sys

ROOT = pathlib.Path(__file__).resolve().parent.parent
README = (ROOT / "README.md").read_text()


def _ci_command(which: str) -> str:
    """The README command that `.ci/readme_commands.py` extracts ("main" or "test")."""
    return subprocess.run(
        [sys.executable, str(ROOT / ".ci" / "readme_commands.py"), which],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()


def test_readme_python_examples_run():
    blocks = re.findall(r"```python\n(.*?)```", README, re.S)
    assert blocks, "README has no python example"
    namespace: dict = {}
    for block in blocks:
        exec(compile(block, "README.md", "exec"), namespace)  # noqa: S102
    assert namespace["log_prob"].shape == (16,)
    assert namespace["samples"].shape == (4, 8, 8, 1)


def test_ci_runs_the_readme_test_command():
    first_block = re.search(r"```bash\n(.*?)```", README, re.S).group(1)
    lines = [line for line in first_block.splitlines() if line.strip()]
    assert len(lines) == 2, f"README must open with exactly two commands, got {lines}"
    assert _ci_command("test") == lines[1]
    ci_script = (ROOT / ".ci" / "run").read_text()
    assert "readme_commands.py test" in ci_script and "python3 -m venv" in ci_script
    assert README.lstrip().startswith("# jinvnet\n\n```bash\n")


def test_readme_main_job_is_the_tested_main_job_config():
    from jinvnet.train import __main__ as cli

    main_command = _ci_command("main")
    assert f"python -m jinvnet.train --config={cli.MAIN_JOB_CONFIG} " in main_command
