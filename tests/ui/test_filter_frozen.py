"""The frozen app has no `python -m`: it runs the jq child as itself with `--jq-worker`."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

from b24explorer import app
from b24explorer.ui import jq_runner


def test_the_app_entry_point_runs_the_jq_worker(tmp_path: Path) -> None:
    source, target = tmp_path / "in.json", tmp_path / "out.json"
    source.write_text(json.dumps({"result": [{"ID": "1"}, {"ID": "2"}]}))
    assert app.main(["--jq-worker", ".result[].ID", str(source), str(target)]) == 0
    assert target.read_text().split("\n") == ['"1"', '"2"']


def test_worker_command_when_frozen(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(sys, "frozen", True, raising=False)
    assert jq_runner.worker_command() == [sys.executable, "--jq-worker"]
    monkeypatch.setattr(sys, "frozen", False)
    assert jq_runner.worker_command()[1:] == ["-m", "b24explorer.ui.jq_worker"]
