"""Runs a jq filter in a child process (see `jq_worker`) and reports back through Qt signals."""

from __future__ import annotations

import sys

from .qt import QObject, QProcess, Signal


def worker_command() -> list[str]:
    """The command that runs `jq_worker`: the module from source, the app itself when frozen."""
    if getattr(sys, "frozen", False):
        return [sys.executable, "--jq-worker"]
    return [sys.executable, "-m", "b24explorer.ui.jq_worker"]


class JqRunner(QObject):
    """One filter at a time; a new `run` or `cancel` kills the one in flight."""

    finished = Signal(bytes)  # jq's outputs, one compact JSON text per line
    failed = Signal(str)
    running_changed = Signal(bool)

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._process: QProcess | None = None

    @property
    def running(self) -> bool:
        return self._process is not None

    def run(self, program: str, document: bytes) -> None:
        self.cancel()
        command = worker_command()
        process = QProcess(self)
        process.setProgram(command[0])
        process.setArguments([*command[1:], program])
        process.finished.connect(lambda code, _status, p=process: self._done(p, code))
        process.errorOccurred.connect(lambda error, p=process: self._error(p, error))
        self._process = process
        process.start()
        process.write(document)  # buffered by QProcess and written as the pipe drains: no UI wait
        process.closeWriteChannel()
        self.running_changed.emit(True)

    def cancel(self) -> None:
        process, self._process = self._process, None
        if process is None:
            return
        process.blockSignals(True)
        process.kill()
        process.waitForFinished(1000)
        process.deleteLater()
        self.running_changed.emit(False)

    def _done(self, process: QProcess, code: int) -> None:
        if process is not self._process:
            return
        self._process = None
        out = bytes(process.readAllStandardOutput().data())
        err = bytes(process.readAllStandardError().data()).decode("utf-8", "replace").strip()
        process.deleteLater()
        self.running_changed.emit(False)
        if code == 0:
            self.finished.emit(out)
        else:
            self.failed.emit(err.splitlines()[-1] if err else f"jq exited with code {code}")

    def _error(self, process: QProcess, error: QProcess.ProcessError) -> None:
        if process is not self._process or error != QProcess.ProcessError.FailedToStart:
            return
        self._process = None
        process.deleteLater()
        self.running_changed.emit(False)
        self.failed.emit("Could not start the jq worker process")
