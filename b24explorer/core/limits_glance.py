"""Limits at a glance: what a connection's limiters know, as read-only values a panel can draw.

`LimitsMonitor` watches the restriction managers of one client (v2 and v3 each have theirs): it samples the
request-rate bucket on every change the managers report (a token taken, an answer, a retry decision) and when
its owner calls `sample()` (a window's timer, so the picture keeps moving while idle: the bucket refills), and
keeps the samples of the last minutes in a ring. `snapshot()` reads everything at one moment: each bucket, the
operating time each method used of its budget (480 s per 10 minutes) with its reset time, and the series.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from .limits import RestrictionManager

if TYPE_CHECKING:
    from .client import B24Client

WINDOW_SECONDS = 300.0  # the minutes of bucket history kept
CAPACITY = 4096  # samples kept per API version at most, whatever the traffic


@dataclass(frozen=True, slots=True)
class BucketSample:
    at: float  # the clock's monotonic seconds
    tokens: float
    burst: float
    pending: int  # requests waiting for a token


@dataclass(frozen=True, slots=True)
class BucketState:
    """The request-rate bucket of one API version: `burst` tokens, refilled at `drain_rate` a second."""

    api: int
    enabled: bool  # False for a connection without client-side limits (the "unlimited" preset)
    tokens: float
    burst: float
    drain_rate: float
    configured_burst: float
    configured_drain_rate: float
    pending: int

    @property
    def fill(self) -> float:
        """Tokens left as a fraction of the bucket (1.0 = full, no waiting)."""
        return self.tokens / self.burst if self.burst else 0.0

    @property
    def lowered(self) -> bool:
        """The limiter slowed down after repeated rate-limit answers."""
        return self.burst < self.configured_burst or self.drain_rate < self.configured_drain_rate


@dataclass(frozen=True, slots=True)
class MethodBudget:
    """The operating time (server seconds) one method used in the portal's current window."""

    api: int
    method: str  # as the limiter keys it: lower case; `batch::crm.deal.get` for a command inside a batch
    used: float
    limit: float
    reset_at: float | None  # unix seconds when the portal resets the count (None when it did not say)
    reset_in: float | None  # seconds from the snapshot's moment to that reset
    heavy: bool  # above the share where the client starts slowing the method down
    blocked_for: float  # seconds the client will hold the method back before sending it (0: none)

    @property
    def fraction(self) -> float:
        return self.used / self.limit if self.limit else 0.0


@dataclass(frozen=True, slots=True)
class LimitsSnapshot:
    time: float  # unix seconds of the snapshot
    buckets: Mapping[int, BucketState]
    budgets: tuple[MethodBudget, ...]  # most used first
    series: Mapping[int, tuple[BucketSample, ...]]  # the last minutes of each bucket, oldest first


class LimitsMonitor:
    """Samples of the request-rate buckets and snapshots of the budgets of one client's limiters.

    `on_change()` runs inside the client's call path, on its loop, each time a sample is taken for a request:
    it should only note that a repaint is due (a window coalesces those on its timer)."""

    def __init__(
        self,
        managers: Mapping[int, RestrictionManager],
        *,
        window: float = WINDOW_SECONDS,
        capacity: int = CAPACITY,
        on_change: Callable[[], Any] | None = None,
    ) -> None:
        self._managers = dict(managers)
        self.window = window
        self.on_change = on_change
        self._series: dict[int, deque[BucketSample]] = {api: deque(maxlen=capacity) for api in self._managers}
        self._stops = [manager.observe(self._observer(api)) for api, manager in self._managers.items()]
        self.sample()

    @classmethod
    def for_client(cls, client: B24Client, **options: Any) -> LimitsMonitor:
        return cls({2: client.limiter(2), 3: client.limiter(3)}, **options)

    def close(self) -> None:
        """Stop watching (the client may live on)."""
        for stop in self._stops:
            stop()
        self._stops = []

    def _observer(self, api: int) -> Callable[[], None]:
        def changed() -> None:
            self._record(api)
            if self.on_change is not None:
                self.on_change()

        return changed

    def _record(self, api: int) -> None:
        manager = self._managers[api]
        rate = manager.rate
        now = manager.clock.monotonic()
        series = self._series[api]
        series.append(BucketSample(now, rate.level(), rate.burst, rate.state()["pending"]))
        horizon = now - self.window
        while len(series) > 1 and series[0].at < horizon:
            series.popleft()

    def sample(self) -> None:
        """Take a sample of every bucket now (a timer calls this; each request samples its own)."""
        for api in self._managers:
            self._record(api)

    def series(self, api: int = 2) -> tuple[BucketSample, ...]:
        manager = self._managers[api]
        horizon = manager.clock.monotonic() - self.window
        return tuple(s for s in self._series[api] if s.at >= horizon)

    def bucket(self, api: int = 2) -> BucketState:
        rate = self._managers[api].rate
        state = rate.state()
        return BucketState(
            api=api,
            enabled=rate.enabled,
            tokens=rate.level(),
            burst=rate.burst,
            drain_rate=rate.drain_rate,
            configured_burst=rate.original_burst,
            configured_drain_rate=rate.original_drain_rate,
            pending=state["pending"],
        )

    def budgets(self) -> list[MethodBudget]:
        """Every method with operating time recorded in the current window, most used first."""
        out = []
        for api, manager in self._managers.items():
            operating = manager.operating
            now = manager.clock.time()
            for method in operating.state()["operating_stats"]:
                stat = operating.stat(method)
                if stat is None:
                    continue
                reset_at = stat.reset_at or None
                out.append(
                    MethodBudget(
                        api=api,
                        method=method,
                        used=stat.operating,
                        limit=operating.limit,
                        reset_at=reset_at,
                        reset_in=None if reset_at is None else max(0.0, reset_at - now),
                        heavy=stat.operating / operating.limit * 100 > operating.heavy_percent,
                        blocked_for=operating.time_to_free(method) if manager.config.proactive else 0.0,
                    )
                )
        out.sort(key=lambda b: (-b.used, b.api, b.method))
        return out

    def snapshot(self) -> LimitsSnapshot:
        clock = next(iter(self._managers.values())).clock
        return LimitsSnapshot(
            time=clock.time(),
            buckets={api: self.bucket(api) for api in self._managers},
            budgets=tuple(self.budgets()),
            series={api: self.series(api) for api in self._managers},
        )


__all__ = ["BucketSample", "BucketState", "LimitsMonitor", "LimitsSnapshot", "MethodBudget"]
