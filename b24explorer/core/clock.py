"""Time as a dependency: the limiters read and wait through a Clock so tests can run hours of waiting instantly."""

from __future__ import annotations

import asyncio
import time
from typing import Protocol, runtime_checkable


@runtime_checkable
class Clock(Protocol):
    def monotonic(self) -> float:
        """Seconds from an arbitrary origin; never goes backwards."""
        ...

    def time(self) -> float:
        """Unix seconds (compared with the server's `time.operating_reset_at`)."""
        ...

    async def sleep(self, seconds: float) -> None: ...


class SystemClock:
    """Real time."""

    def monotonic(self) -> float:
        return time.monotonic()

    def time(self) -> float:
        return time.time()

    async def sleep(self, seconds: float) -> None:
        await asyncio.sleep(max(0.0, seconds))


class FakeClock:
    """Virtual time for tests: `sleep()` advances the clock at once and records the requested duration.

    Sleeps are sequential in virtual time (two tasks that each sleep 1 s move the clock by 2 s). `sleep()` still
    yields to the event loop once, so concurrent tasks interleave as they would with a real clock.
    """

    def __init__(self, *, start_monotonic: float = 1000.0, start_time: float = 1_750_000_000.0) -> None:
        self._elapsed = 0.0
        self._mono0 = start_monotonic
        self._time0 = start_time
        self.sleeps: list[float] = []

    def monotonic(self) -> float:
        return self._mono0 + self._elapsed

    def time(self) -> float:
        return self._time0 + self._elapsed

    def advance(self, seconds: float) -> None:
        if seconds < 0:
            raise ValueError("a clock cannot go backwards")
        self._elapsed += seconds

    async def sleep(self, seconds: float) -> None:
        seconds = max(0.0, seconds)
        self.sleeps.append(seconds)
        self._elapsed += seconds
        await asyncio.sleep(0)

    @property
    def slept(self) -> float:
        """Total virtual seconds spent in `sleep()`."""
        return sum(self.sleeps)
