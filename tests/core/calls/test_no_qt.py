"""Every module of b24explorer.core imports in a process where PySide6 and qasync cannot be imported."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

ROOT = Path(__file__).resolve().parents[3]

BLOCKER = textwrap.dedent(
    """
    import sys
    from importlib.abc import MetaPathFinder

    BLOCKED = ("PySide6", "shiboken6", "qasync", "PyQt5", "PyQt6", "PySide2")

    class QtBlocker(MetaPathFinder):
        def find_spec(self, name, path=None, target=None):
            if name.split(".")[0] in BLOCKED:
                raise ImportError(f"{name} is blocked in this process")
            return None

    sys.meta_path.insert(0, QtBlocker())
    """
)

PROBE = textwrap.dedent(
    """
    import importlib, pkgutil, sys
    try:
        import PySide6  # noqa: F401
    except ImportError:
        pass
    else:
        raise SystemExit("the blocker did not block PySide6")
    import b24explorer.core as core
    names = sorted(m.name for m in pkgutil.iter_modules(core.__path__))
    for name in names:
        importlib.import_module(f"b24explorer.core.{name}")
    leaked = sorted(m for m in sys.modules if m.split(".")[0] in ("PySide6", "shiboken6", "qasync"))
    print("modules:", ",".join(names))
    print("leaked:", ",".join(leaked))
    """
)


def test_core_imports_without_qt(tmp_path: Path) -> None:
    (tmp_path / "sitecustomize.py").write_text(BLOCKER)
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(tmp_path), str(ROOT)])}
    proc = subprocess.run(
        [sys.executable, "-c", PROBE], env=env, capture_output=True, text=True, timeout=60, cwd=ROOT
    )
    assert proc.returncode == 0, proc.stderr
    modules = proc.stdout.split("modules:", 1)[1].splitlines()[0].split(",")
    for expected in ("client", "errors", "result", "webhook", "logbus", "lists", "v3", "limits", "encoding"):
        assert expected in modules
    assert proc.stdout.strip().endswith("leaked:")
