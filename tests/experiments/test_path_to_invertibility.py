"""Smoke test: every rung of the path to invertibility trains for two steps."""

import pytest

from experiments.path_to_invertibility import main
from jinvnet.models import iconvnet

pytestmark = pytest.mark.slow  # end to end; see docs/testing.md


def test_smoke_config_trains_every_rung_and_prints_the_table(tmp_path, capsys):
    rows = main.main(["--config", "smoke", "--workdir", str(tmp_path)])
    assert [row["index"] for row in rows] == list(
        range(len(iconvnet.PATH_TO_INVERTIBILITY))
    )
    assert all(0.0 <= row["accuracy"] <= 100.0 for row in rows)
    out = capsys.readouterr().out
    for rung in iconvnet.PATH_TO_INVERTIBILITY:
        assert rung.change in out
