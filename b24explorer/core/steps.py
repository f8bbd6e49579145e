"""Long work in short slices, so the thread that runs it (the window's) never stalls.

A piece of work is a generator that does a small unit between yields (a record, a key, a parse) and yields its
progress (0..1) or None. `Job` runs it a slice at a time: `step()` works until its time budget is spent and
returns, so a timer can drive it; `run()` drives it from an asyncio loop, handing the loop back between slices;
`finish()` runs it to the end in one go (scripts, tests). `cancel()` stops it at the next unit.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Generator
from typing import Generic, TypeVar

T = TypeVar("T")

SLICE_SECONDS = 0.010
"""Work done before the loop gets its turn back: well under the 150 ms a window may stall."""

Work = Generator[float | None, None, T]


class JobCancelled(Exception):
    """The job was cancelled before it finished."""


class Job(Generic[T]):
    """Runs `work` in slices. `result` is the generator's return value once `done`."""

    def __init__(self, work: Work[T]) -> None:
        self._work = work
        self._result: T | None = None
        self.progress = 0.0
        self.done = False
        self.cancelled = False
        self.error: Exception | None = None  # what the work raised (the job is then over)

    @property
    def result(self) -> T:
        if self.cancelled:
            raise JobCancelled("the job was cancelled")
        if self.error is not None:
            raise self.error
        if not self.done:
            raise RuntimeError("the job has not finished")
        return self._result  # type: ignore[return-value]

    def cancel(self) -> None:
        if not self.done:
            self.cancelled = True
            self._work.close()

    def step(self, budget: float = SLICE_SECONDS) -> bool:
        """Work for about `budget` seconds (at least one unit). Returns True once the job is over; raises what
        the work raised (once: the job is then over, and `result` raises it again)."""
        if self.done or self.cancelled:
            return True
        deadline = time.perf_counter() + budget
        work = self._work
        try:
            while True:
                progress = next(work)
                if progress is not None:
                    self.progress = progress
                if time.perf_counter() >= deadline:
                    return False
        except StopIteration as stop:
            self._result = stop.value
            self.done = True
            self.progress = 1.0
            return True
        except Exception as exc:
            self.error = exc
            self.done = True
            raise

    async def run(
        self, budget: float = SLICE_SECONDS, on_progress: Callable[[float], object] | None = None
    ) -> T:
        """Run to the end from an asyncio loop, yielding to it after each slice; cancelling the awaiting task
        cancels the job."""
        try:
            while not self.step(budget):
                if on_progress is not None:
                    on_progress(self.progress)
                await asyncio.sleep(0)
        except asyncio.CancelledError:
            self.cancel()
            raise
        return self.result

    def finish(self) -> T:
        """Run to the end now, in one go."""
        while not self.step(3600.0):
            pass
        return self.result
