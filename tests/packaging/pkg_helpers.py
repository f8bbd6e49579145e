"""Helpers shared by the packaging tests: run ``--self-test`` in an isolated environment."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
LAUNCHER = ROOT / "packaging" / "launcher.py"
SELFTEST_TIMEOUT = 150


@dataclass
class SelfTestRun:
    returncode: int
    output: str

    def line(self, step: str) -> str:
        """The report line of one step ("window", "keyring", …), or "" when absent."""
        for text in self.output.splitlines():
            parts = text.split()
            if len(parts) >= 2 and parts[1] == step:
                return text
        return ""


def isolated_env(home: Path, *, bus: bool = False) -> dict[str, str]:
    """An environment that cannot touch the developer's own keyring, settings or display."""
    env = {k: v for k, v in os.environ.items()
           if k not in ("DBUS_SESSION_BUS_ADDRESS", "DISPLAY", "WAYLAND_DISPLAY", "B24X_IN_TEST_SESSION",
                        "PYTHON_KEYRING_BACKEND")}
    run_dir = home / "run"
    run_dir.mkdir(parents=True, exist_ok=True)
    run_dir.chmod(0o700)
    env.update(
        B24X_HOME=str(home / "app"),
        XDG_RUNTIME_DIR=str(run_dir),
        XDG_DATA_HOME=str(home / "data"),
        XDG_CONFIG_HOME=str(home / "config"),
        QT_QPA_PLATFORM="offscreen",
    )
    if bus:
        env["B24X_IN_TEST_SESSION"] = "1"
    return env


def run_selftest(command: list[str], home: Path, *extra: str, secret_service: bool = False,
                 locked_keyring: bool = False, env_extra: dict[str, str] | None = None) -> SelfTestRun:
    """Run ``command --self-test`` in isolation: without a D-Bus session; or (secret_service=True) inside a
    private one with an unlocked gnome-keyring, the way a logged-in desktop has it; or (locked_keyring=True)
    inside one where gnome-keyring starts on demand but nothing unlocked it and no prompt can be shown."""
    env = isolated_env(home, bus=secret_service or locked_keyring)
    env.update(env_extra or {})
    argv = [*command, "--self-test", *extra]
    if secret_service or locked_keyring:
        for tool in ("dbus-run-session", "gnome-keyring-daemon"):
            if not shutil.which(tool):
                pytest.skip(f"{tool} is not installed")
        unlock = ("printf %s selftest-pass | gnome-keyring-daemon --unlock --components=secrets >/dev/null 2>&1;"
                  if secret_service else "")
        argv = ["dbus-run-session", "--", "bash", "-c", unlock + ' exec "$@"', "bash", *argv]
    proc = subprocess.run(argv, env=env, capture_output=True, text=True, timeout=SELFTEST_TIMEOUT)
    output = proc.stdout + proc.stderr
    print(output)  # the report, visible with -s (packaging/ci_check.sh) and on failure
    return SelfTestRun(proc.returncode, output)


def source_command() -> list[str]:
    return [sys.executable, str(LAUNCHER)]
