"""Runs a jq filter in a child process (see `jq_worker`) and reports back through Qt signals.

The document goes to the child through a temporary file written on a helper thread (file writes release
the GIL), and the output comes back the same way, so a 32 MB answer never passes through a QByteArray on
the UI thread.
"""

from __future__ import annotations

import contextlib
import os
import sys
import tempfile
import threading
from pathlib import Path
from typing import TYPE_CHECKING

from . import qt
from .qt import QObject, Signal

if TYPE_CHECKING:
    from .qt import QProcess


def worker_command() -> list[str]:
    """The command that runs `jq_worker`: the module from source, the app itself when frozen."""
    if getattr(sys, "frozen", False):
        return [sys.executable, "--jq-worker"]
    return [sys.executable, "-m", "b24explorer.ui.jq_worker"]


class JqRunner(QObject):
    """One filter at a time; a new `run` or `cancel` stops the one in flight."""

    finished = Signal(bytes)  # jq's outputs, one JSON text per line
    failed = Signal(str)
    running_changed = Signal(bool)
    _written = Signal(int, str)  # (run number, error message or "") from the writer thread

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._process: QProcess | None = None
        self._run = 0
        self._active = False
        self._program = ""
        self._dir: tempfile.TemporaryDirectory[str] | None = None
        self._written.connect(self._start_process)

    @property
    def running(self) -> bool:
        return self._active

    def run(self, program: str, document: bytes) -> None:
        self.cancel()
        self._run += 1
        self._program = program
        self._dir = tempfile.TemporaryDirectory(prefix="b24x-jq-")
        source = Path(self._dir.name, "input.json")
        self._active = True
        self.running_changed.emit(True)
        run = self._run

        def write() -> None:
            try:
                source.write_bytes(document)
            except OSError as exc:
                self._written.emit(run, f"Cannot hand the answer to jq: {exc}")
            else:
                self._written.emit(run, "")

        threading.Thread(target=write, name="jq-input", daemon=True).start()

    def _start_process(self, run: int, error: str) -> None:
        if run != self._run or not self._active or self._dir is None:
            return
        if error:
            self._finish()
            self.failed.emit(error)
            return
        command = worker_command()
        folder = self._dir.name
        process = qt.QProcess(self)  # QProcess is looked up here: the start does not need its class
        process.setProgram(command[0])
        process.setArguments([*command[1:], self._program, os.path.join(folder, "input.json"),
                              os.path.join(folder, "output.json")])
        process.finished.connect(lambda code, _status, p=process: self._done(p, code))
        process.errorOccurred.connect(lambda err, p=process: self._error(p, err))
        self._process = process
        process.start()

    def cancel(self) -> None:
        if not self._active:
            return
        self._run += 1
        process, self._process = self._process, None
        if process is not None:
            process.blockSignals(True)
            process.kill()
            process.waitForFinished(1000)
            process.deleteLater()
        self._finish()

    def _finish(self) -> None:
        self._active = False
        if self._dir is not None:
            with contextlib.suppress(OSError):
                self._dir.cleanup()
            self._dir = None
        self.running_changed.emit(False)

    def _done(self, process: QProcess, code: int) -> None:
        if process is not self._process:
            return
        self._process = None
        err = bytes(process.readAllStandardError().data()).decode("utf-8", "replace").strip()
        process.deleteLater()
        out = b""
        if code == 0 and self._dir is not None:
            try:
                out = Path(self._dir.name, "output.json").read_bytes()
            except OSError as exc:
                code, err = 1, f"jq output unreadable: {exc}"
        self._finish()
        if code == 0:
            self.finished.emit(out)
        else:
            self.failed.emit(err or f"jq exited with code {code}")  # whole: jq points at the line and column

    def _error(self, process: QProcess, error: QProcess.ProcessError) -> None:
        if process is not self._process or error != qt.QProcess.ProcessError.FailedToStart:
            return
        self._process = None
        process.deleteLater()
        self._finish()
        self.failed.emit("Could not start the jq worker process")
