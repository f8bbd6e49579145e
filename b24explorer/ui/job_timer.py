"""Drives a :class:`~b24explorer.core.steps.Job` from a zero-interval Qt timer: a slice of work per turn of the
event loop, so the window never stalls (a diff, a sort or an export of a 100,000-record answer)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from b24explorer.core.steps import SLICE_SECONDS, Job

from .qt import QObject, QTimer, Signal


class JobTimer(QObject):
    """One job at a time; starting another cancels the one running.

    Signals: ``progressed(float)`` after each slice, ``finished(object)`` with the job's result, ``failed(str)``.
    """

    progressed = Signal(float)
    finished = Signal(object)
    failed = Signal(str)

    def __init__(self, parent: QObject | None = None, budget: float = SLICE_SECONDS) -> None:
        super().__init__(parent)
        self.budget = budget
        self.job: Job[Any] | None = None
        self._after_slice: Callable[[], Any] | None = None
        self._timer = QTimer(self)
        # 1 ms, not 0: a zero timer fires again before other due timers, so two long slices (a body's parse is
        # one unit) would run back to back; with 1 ms the loop's other timers get their turn between slices.
        self._timer.setInterval(1)
        self._timer.timeout.connect(self._step)

    @property
    def running(self) -> bool:
        return self.job is not None and self._timer.isActive()

    def start(self, job: Job[Any], after_slice: Callable[[], Any] | None = None) -> None:
        """Run ``job``; ``after_slice`` (e.g. showing the rows found so far) runs after each slice."""
        self.cancel()
        self.job = job
        self._after_slice = after_slice
        self._timer.start()

    def cancel(self) -> None:
        if self.job is not None and not self.job.done:
            self.job.cancel()
        self._timer.stop()

    def _step(self) -> None:
        job = self.job
        if job is None:
            self._timer.stop()
            return
        try:
            over = job.step(self.budget)
        except Exception as exc:  # the work's own error: said, never raised into Qt
            self._timer.stop()
            self._run_after_slice()
            self.failed.emit(f"{type(exc).__name__}: {exc}")
            return
        self._run_after_slice()
        if over:
            self._timer.stop()
            if not job.cancelled:
                self.finished.emit(job.result)
        else:
            self.progressed.emit(job.progress)

    def _run_after_slice(self) -> None:
        if self._after_slice is not None:
            self._after_slice()
