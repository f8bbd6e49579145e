"""The portal's two limits: a request-rate leaky bucket and per-method operating time."""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass

WINDOW_SECONDS = 600  # ten one-minute buckets
BUCKET_SECONDS = 60


@dataclass(frozen=True)
class Plan:
    name: str
    drain_per_second: float | None  # None: no request-rate limit
    burst: int
    operating_limit: float | None  # seconds of a method's operating time per 10 minutes


PLANS = {
    "standard": Plan("standard", 2.0, 50, 480.0),
    "enterprise": Plan("enterprise", 5.0, 250, 480.0),
    "unlimited": Plan("unlimited", None, 0, None),
}


class LeakyBucket:
    """Each request adds one; the level drains at `rate` per second; above `burst` requests are refused."""

    def __init__(self, rate: float | None, burst: int) -> None:
        self.rate = rate
        self.burst = burst
        self.level = 0.0
        self._last: float | None = None

    def admit(self, now: float) -> bool:
        if self.rate is None:
            return True
        if self._last is not None:
            self.level = max(0.0, self.level - (now - self._last) * self.rate)
        self._last = now
        if self.level + 1 > self.burst:
            return False
        self.level += 1
        return True

    def reset(self) -> None:
        self.level = 0.0
        self._last = None


class OperatingMeter:
    """Operating seconds per (webhook, method) in one-minute buckets that live ten minutes."""

    def __init__(self, limit: float | None) -> None:
        self.limit = limit
        # key -> deque of [minute index, first call time, seconds]
        self._buckets: dict[tuple[str, str], deque[list[float]]] = {}

    def _live(self, key: tuple[str, str], now: float) -> deque[list[float]]:
        buckets = self._buckets.setdefault(key, deque())
        while buckets and buckets[0][1] + WINDOW_SECONDS <= now:
            buckets.popleft()
        return buckets

    def operating(self, key: tuple[str, str], now: float) -> float:
        return sum(b[2] for b in self._live(key, now))

    def reset_at(self, key: tuple[str, str], now: float) -> int:
        buckets = self._live(key, now)
        first = buckets[0][1] if buckets else now
        return int(first + WINDOW_SECONDS)

    def blocked(self, key: tuple[str, str], now: float) -> bool:
        """Checked before a call: a call started under the limit runs even if it crosses it."""
        return self.limit is not None and self.operating(key, now) >= self.limit

    def charge(self, key: tuple[str, str], seconds: float, now: float) -> None:
        buckets = self._live(key, now)
        minute = now // BUCKET_SECONDS
        if buckets and buckets[-1][0] == minute:
            buckets[-1][2] += seconds
        else:
            buckets.append([minute, now, seconds])

    def reset(self) -> None:
        self._buckets.clear()
