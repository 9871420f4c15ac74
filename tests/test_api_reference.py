"""The API reference site (mkdocs + mkdocstrings) covers every public module and
builds in strict mode, so a docstring it cannot read fails the suite."""

import importlib
import os
import pkgutil
import subprocess
import sys

import pytest

_ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
_PACKAGES = ("ops", "bijectors", "models", "data", "train", "diagnostics")


@pytest.mark.parametrize("package", _PACKAGES)
def test_every_public_module_has_a_reference_section(package):
    module = importlib.import_module(f"jinvnet.{package}")
    public = {
        info.name
        for info in pkgutil.iter_modules(module.__path__)
        if not info.name.startswith("_") and info.name != "__main__"
    }
    with open(os.path.join(_ROOT, "docs", "api", f"{package}.md")) as f:
        page = f.read()
    missing = sorted(n for n in public if f"::: jinvnet.{package}.{n}\n" not in page)
    assert not missing, f"docs/api/{package}.md lacks ::: entries for {missing}"


@pytest.mark.slow  # about 20 s
def test_site_builds_in_strict_mode(tmp_path):
    result = subprocess.run(
        [sys.executable, "-m", "mkdocs", "build", "--strict", "-d", str(tmp_path)],
        cwd=_ROOT,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    page = (tmp_path / "api" / "ops" / "index.html").read_text()
    assert "cinc.solve" in page and "small_linalg" in page
