"""``--self-test`` run from source (the frozen runs are in test_frozen.py): what it checks, and that it fails."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest
from pkg_helpers import ROOT, run_selftest, source_command

# A run with one check sabotaged: proves the self-test reports failures instead of printing "ok" regardless.
SABOTAGE = """
import sys
sys.path.insert(0, {root!r})
from b24explorer import selftest
{patch}
sys.exit(selftest.run(sys.argv[1:]))
"""


def _sabotaged(patch: str) -> list[str]:
    return [sys.executable, "-c", SABOTAGE.format(root=str(ROOT), patch=patch)]


def test_without_dbus_reports_no_keyring_and_passes(tmp_path: Path, source_env_extra: dict[str, str]) -> None:
    report = tmp_path / "report.txt"
    env = {**source_env_extra, "B24X_LAUNCH_T0": "0"}  # the epoch: "painted N ms after launch" then reads "now"
    run = run_selftest(source_command(), tmp_path, "--report", str(report), env_extra=env)
    assert run.returncode == 0, run.output
    for step in ("window", "sandbox", "call v2", "call v3", "batch", "keyring", "close", "secrets"):
        assert run.line(step.split()[0]).split()[0] == "ok", f"{step}: {run.output}"
    keyring_line = run.line("keyring")
    assert "no keyring" in keyring_line
    assert "this run only (not saved)" in keyring_line
    assert "from source" in run.output
    assert "self-test passed" in run.output
    text = report.read_text(encoding="utf-8")  # a windowed Windows build has no stdout: the file is the report
    assert text.strip()
    assert text in run.output
    assert "window painted" in run.line("window")
    assert "ms after launch" in run.line("window")


def test_require_keyring_fails_without_one(tmp_path: Path, source_env_extra: dict[str, str]) -> None:
    run = run_selftest(source_command(), tmp_path, "--require-keyring", env_extra=source_env_extra)
    assert run.returncode == 1, run.output
    assert run.line("keyring").startswith("  FAIL")
    assert "self-test FAILED" in run.output


@pytest.mark.real_keyring
def test_under_secret_service_saves_reads_and_deletes(tmp_path: Path, source_env_extra: dict[str, str]) -> None:
    run = run_selftest(source_command(), tmp_path, "--require-keyring", secret_service=True,
                       env_extra=source_env_extra)
    assert run.returncode == 0, run.output
    keyring_line = run.line("keyring")
    assert "Secret Service" in keyring_line
    assert "SecretService.Keyring" in keyring_line
    assert "saved, read and deleted a test entry" in keyring_line


@pytest.mark.real_keyring
def test_locked_keyring_is_reported_and_the_run_still_passes(tmp_path: Path,
                                                              source_env_extra: dict[str, str]) -> None:
    """A Secret Service that cannot unlock (no prompt possible): same answer as no keyring, not a failure."""
    run = run_selftest(source_command(), tmp_path, locked_keyring=True, env_extra=source_env_extra)
    assert run.returncode == 0, run.output
    line = run.line("keyring")
    assert line.split()[0] == "ok"
    assert "keyring unusable (" in line
    assert "this run only (not saved)" in line


def test_unexpected_qt_warning_fails_the_run(tmp_path: Path) -> None:
    patch = (
        "from PySide6.QtCore import qWarning\n"
        "original = selftest._Checks.window_closed\n"
        "async def noisy(self):\n"
        "    qWarning('QWidget::repaint: Recursive repaint detected')\n"
        "    return await original(self)\n"
        "selftest._Checks.window_closed = noisy\n"
    )
    run = run_selftest(_sabotaged(patch), tmp_path)
    assert run.returncode == 1, run.output
    assert "FAIL  qt       unexpected message: QtWarningMsg: QWidget::repaint: Recursive repaint detected" in run.output
    assert run.line("close").split()[0] == "ok"  # every step passed; the warning alone fails the run


def test_a_failing_step_fails_the_run(tmp_path: Path) -> None:
    patch = (
        "async def broken(self):\n"
        "    raise RuntimeError('v3 endpoint answered garbage')\n"
        "selftest._Checks.call_v3 = broken\n"
    )
    run = run_selftest(_sabotaged(patch), tmp_path)
    assert run.returncode == 1, run.output
    assert "FAIL  call v3  RuntimeError: v3 endpoint answered garbage" in run.output
    assert run.line("batch").split()[0] == "ok"  # later steps still run and report


def test_a_build_without_its_resources_fails_the_run(tmp_path: Path) -> None:
    patch = "import b24explorer.app\nb24explorer.app._app_icon_path = lambda: None\n"
    run = run_selftest(_sabotaged(patch), tmp_path)
    assert run.returncode == 1, run.output
    assert run.line("window").startswith("  FAIL")
    assert "app icon cannot be shown" in run.line("window")


def test_offscreen_is_chosen_only_without_a_display(monkeypatch: pytest.MonkeyPatch) -> None:
    from b24explorer import selftest

    for name in ("QT_QPA_PLATFORM", "DISPLAY", "WAYLAND_DISPLAY"):
        monkeypatch.delenv(name, raising=False)
    assert selftest._wants_offscreen() is sys.platform.startswith("linux")
    monkeypatch.setenv("DISPLAY", ":99")
    assert selftest._wants_offscreen() is False
    monkeypatch.delenv("DISPLAY")
    monkeypatch.setenv("QT_QPA_PLATFORM", "xcb")
    assert selftest._wants_offscreen() is False
    assert os.environ["QT_QPA_PLATFORM"] == "xcb"
