"""Client-side limits and the retry decision, reproducing the JS SDK's RestrictionManager.

Pure logic: no HTTP, no Qt. The HTTP client asks `RestrictionManager.before_attempt()` before each POST, reports
every outcome (`on_success()` / `decide()`), and sleeps `RetryDecision.wait` through the same Clock before the next
attempt. All durations here are seconds; where the SDK rounds milliseconds, the same rounding is applied.

On top of the SDK: a method that may change state is never re-sent after a failure that leaves it unknown whether
the server ran it (the SDK's issue #24 created three documents after one timeout).
"""

from __future__ import annotations

import asyncio
import contextlib
import math
import random
from collections import deque
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from typing import Any, Literal

from .clock import Clock, SystemClock

LogFn = Callable[[str, str, str, dict[str, Any]], None]
"""log(level, code, message, context); level is a lowercase SDK level name ("debug" … "error")."""

# Codes of the log records this module emits.
LOG_OPERATING_BLOCKED = "OPERATING_LIMIT_BLOCKED"
LOG_ADAPTIVE_DELAY = "ADAPTIVE_DELAY"
LOG_RATE_BLOCKED = "RATE_LIMIT_BLOCKED"
LOG_RATE_QUEUE = "RATE_LIMIT_QUEUE"
LOG_RATE_LOWERED = "RATE_LIMITS_LOWERED"
LOG_RATE_RESTORED = "RATE_LIMITS_RESTORED"
LOG_OPERATING_HEAVY = "OPERATING_LIMIT_HEAVY"
LOG_HTTP_WAIT = "HTTP_WAIT"
LOG_RETRIES_EXHAUSTED = "HTTP_RETRIES_EXHAUSTED"
LOG_CLIENT_ERROR = "HTTP_CLIENT_ERROR_NOT_RETRYABLE"
LOG_NOT_RETRIED_AMBIGUOUS = "NOT_RETRIED_AMBIGUOUS"

NETWORK_ERROR = "NETWORK_ERROR"
REQUEST_TIMEOUT = "REQUEST_TIMEOUT"
QUERY_LIMIT_EXCEEDED = "QUERY_LIMIT_EXCEEDED"
OPERATION_TIME_LIMIT = "OPERATION_TIME_LIMIT"
MISSING_PARAMETER_TEXT = "Could not find value for parameter"

HARD_CODES: frozenset[str] = frozenset(
    {
        "ERR_BAD_REQUEST",
        "JSSDK_UNKNOWN_ERROR",
        "100",
        "INTERNAL_SERVER_ERROR",
        "ERROR_UNEXPECTED_ANSWER",
        "PORTAL_DELETED",
        "ERROR_BATCH_METHOD_NOT_ALLOWED",
        "ERROR_BATCH_LENGTH_EXCEEDED",
        "NO_AUTH_FOUND",
        "INVALID_REQUEST",
        "OVERLOAD_LIMIT",
        "expired_token",
        "invalid_token",
        "ACCESS_DENIED",
        "INVALID_CREDENTIALS",
        "user_access_error",
        "insufficient_scope",
        "ERROR_MANIFEST_IS_NOT_AVAILABLE",
        "allowed_only_intranet_user",
        "NOT_FOUND",
        "INVALID_ARG_VALUE",
    }
)
"""Codes that are raised at once, never retried (SDK built-ins; config can only add to them)."""

_V3 = "BITRIX_REST_V3_EXCEPTION_"
SOFT_CODES: frozenset[str] = frozenset(
    {
        "ERROR_ENTITY_NOT_FOUND",
        _V3 + "ACCESSDENIEDEXCEPTION",
        _V3 + "INVALIDJSONEXCEPTION",
        _V3 + "INVALIDFILTEREXCEPTION",
        _V3 + "INVALIDSELECTEXCEPTION",
        _V3 + "ENTITYNOTFOUNDEXCEPTION",
        _V3 + "METHODNOTFOUNDEXCEPTION",
        _V3 + "UNKNOWNDTOPROPERTYEXCEPTION",
        _V3 + "VALIDATION_REQUESTVALIDATIONEXCEPTION",
        _V3 + "VALIDATION_DTOVALIDATIONEXCEPTION",
    }
)
"""Codes that come back as a failed result instead of raising, and are never retried."""


# --------------------------------------------------------------------------------------------------- config


@dataclass(frozen=True)
class LimitsConfig:
    """Restriction parameters; defaults are the SDK's `ParamsFactory.getDefault()` (times in seconds)."""

    burst: float = 50
    drain_rate: float = 2.0
    adaptive_enabled: bool = True
    operating_window: float = 600
    operating_limit: float = 480
    heavy_percent: float = 80
    adaptive_delay_enabled: bool = True
    adaptive_threshold_percent: float = 80
    adaptive_coefficient: float = 0.01
    adaptive_max_delay: float = 7.0
    max_retries: int = 3
    retry_delay: float = 1.0
    retry_on_network_error: bool = True
    hard_codes: frozenset[str] = frozenset()
    soft_codes: frozenset[str] = frozenset()
    proactive: bool = True
    """False: no waiting before a call (no token bucket, operating budget or adaptive delay); retries still apply."""

    def __post_init__(self) -> None:
        object.__setattr__(self, "hard_codes", frozenset(str(c) for c in self.hard_codes))
        object.__setattr__(self, "soft_codes", frozenset(str(c) for c in self.soft_codes))
        problems = []
        if not self.burst >= 1:
            problems.append(f"burst must be at least 1 (got {self.burst})")
        if not self.drain_rate > 0:
            problems.append(f"drain_rate must be above 0 calls/s (got {self.drain_rate})")
        if not self.operating_limit > 0 or not self.operating_window > 0:
            problems.append("operating_limit and operating_window must be above 0 s")
        if not isinstance(self.max_retries, int) or self.max_retries < 1:
            problems.append(
                f"max_retries counts every attempt and must be at least 1 (got {self.max_retries})"
            )
        if (
            not self.retry_delay >= 0
            or not self.adaptive_max_delay >= 0
            or not self.adaptive_coefficient >= 0
        ):
            problems.append("retry_delay, adaptive_max_delay and adaptive_coefficient cannot be negative")
        if problems:
            raise ValueError("invalid limits: " + "; ".join(problems))

    @classmethod
    def standard(cls) -> LimitsConfig:
        return cls()

    @classmethod
    def enterprise(cls) -> LimitsConfig:
        return cls(burst=250, drain_rate=5)

    @classmethod
    def batch_processing(cls) -> LimitsConfig:
        return cls(
            burst=30,
            drain_rate=1,
            heavy_percent=50,
            adaptive_threshold_percent=50,
            adaptive_coefficient=0.015,
            adaptive_max_delay=10.0,
            max_retries=5,
        )

    @classmethod
    def realtime(cls) -> LimitsConfig:
        return cls(
            adaptive_delay_enabled=False,
            adaptive_threshold_percent=100,
            adaptive_coefficient=0.001,
            adaptive_max_delay=480.0,
            max_retries=1,
        )

    @classmethod
    def unlimited(cls) -> LimitsConfig:
        return cls(proactive=False)

    @classmethod
    def from_plan(cls, name: str) -> LimitsConfig:
        """A tariff plan name (as the SDK's `fromTariffPlan`: enterprise, else the default) or a preset name."""
        key = (name or "").strip().lower().replace("-", "_")
        presets: dict[str, Callable[[], LimitsConfig]] = {
            "enterprise": cls.enterprise,
            "unlimited": cls.unlimited,
            "batch_processing": cls.batch_processing,
            "realtime": cls.realtime,
        }
        return presets.get(key, cls.standard)()

    @property
    def all_hard_codes(self) -> frozenset[str]:
        extra = {NETWORK_ERROR, REQUEST_TIMEOUT} if not self.retry_on_network_error else set()
        return HARD_CODES | self.hard_codes | extra

    @property
    def all_soft_codes(self) -> frozenset[str]:
        return SOFT_CODES | self.soft_codes

    def is_soft_code(self, code: str) -> bool:
        """A failure with this code is returned as an unsuccessful result instead of raised."""
        return str(code) in self.all_soft_codes


# ------------------------------------------------------------------------------------------- idempotency

# Whole method names that only read (compared in lower case).
_READ_ONLY_METHODS = frozenset(
    {
        "server.time",
        "profile",
        "scope",
        "methods",
        "method.get",
        "user.current",
        "user.access",
        "user.admin",
        "access.name",
        "app.info",
        "events",
        "event.get",
        "feature.get",
        "rest.documentation.openapi",
        "timeman.status",
        "timeman.settings",
    }
)
# Last segments of read-only method names: crm.deal.list, crm.item.fields, main.eventlog.tail, …
_READ_ONLY_LAST = frozenset(
    {
        "get",
        "list",
        "fields",
        "tail",
        "search",
        "count",
        "items",
        "current",
        "info",
        "children",
        "subordinates",
        "thread",
        "senders",
        "version",
    }
)
# … and prefixes of it: getlist, getfields, getchildren, listcontacts, isactionallowed, findbycomm, …
_READ_ONLY_PREFIXES = ("get", "list", "search", "find", "is")
_READ_ONLY_NAMESPACES = ("crm.enum.",)


def is_read_only(method: str) -> bool:
    """True for methods known to only read; every other method is treated as changing state."""
    name = method.strip().lower()
    if name.startswith("batch::"):
        name = name[len("batch::") :]
    if name in _READ_ONLY_METHODS or name.startswith(_READ_ONLY_NAMESPACES):
        return True
    last = name.rsplit(".", 1)[-1]
    return last in _READ_ONLY_LAST or last.startswith(_READ_ONLY_PREFIXES)


def is_non_idempotent(method: str, batch_methods: Sequence[str] = ()) -> bool:
    """Whether sending `method` twice may do twice what it does once.

    Unknown methods count as non-idempotent: failing to retry a read costs a click, re-sending a write can create
    duplicates. `batch` is non-idempotent when any of its commands is, or when its commands are not given.
    """
    if method.strip().lower() == "batch":
        return not batch_methods or any(is_non_idempotent(m) for m in batch_methods)
    return not is_read_only(method)


def command_method(cmd: str) -> str:
    """The method of a v2 batch command string: `crm.deal.list?filter[>ID]=0` → `crm.deal.list`."""
    return cmd.split("?", 1)[0].strip()


# ----------------------------------------------------------------------------------------------- helpers


def _round2(value: float) -> float:
    """JS `Number.parseFloat(x.toFixed(2))`: half away from zero on the exact binary value."""
    return float(Decimal(value).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP))


def _emit(log: LogFn | None, level: str, code: str, message: str, context: dict[str, Any]) -> None:
    if log is None:
        return
    with contextlib.suppress(Exception):  # a failing log sink must never break a call
        log(level, code, message, context)


def _field(block: Any, key: str) -> Any:
    if block is None:
        return None
    if isinstance(block, Mapping):
        return block.get(key)
    return getattr(block, key, None)


def _as_float(value: Any) -> float | None:
    if value is None or isinstance(value, bool):
        return None
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    return number if math.isfinite(number) else None


def _method_key(method: str) -> str:
    return method.strip().lower()


# ------------------------------------------------------------------------------------------ rate limiter


class RateLimiter:
    """Token bucket: `burst` tokens, refilled at `drain_rate` per second; one token per HTTP request.

    Waiters are served first come, first served: the head of the queue holds the lock while it sleeps.
    With `adaptive`, 5 rate-limit errors within 60 s lower both numbers by 20 % (floors 0.5/s and 5); 20 later
    successes with at most 2 errors in 60 s raise them by 10 % again, up to the configured values.
    """

    ERROR_THRESHOLD = 5
    SUCCESS_THRESHOLD = 20
    ERROR_WINDOW = 60.0
    MIN_DRAIN_RATE = 0.5
    MIN_BURST = 5.0
    _EPS = 1e-9

    def __init__(
        self,
        burst: float,
        drain_rate: float,
        clock: Clock,
        *,
        adaptive: bool = True,
        enabled: bool = True,
        log: LogFn | None = None,
    ) -> None:
        self._clock = clock
        self._log = log
        self.enabled = enabled
        self.adaptive = adaptive
        self.original_burst = float(burst)
        self.original_drain_rate = float(drain_rate)
        self.burst = float(burst)
        self.drain_rate = float(drain_rate)
        self._tokens = float(burst)
        self._last_refill = clock.monotonic()
        self._errors: deque[float] = deque()
        self._successes: deque[float] = deque(maxlen=self.SUCCESS_THRESHOLD)
        self._lock = asyncio.Lock()
        self._lock_loop: asyncio.AbstractEventLoop | None = None
        self._pending = 0

    @property
    def tokens(self) -> float:
        return self._tokens

    def level(self) -> float:
        """The tokens in the bucket now (refilled for the time since the last take), without taking one."""
        elapsed = max(0.0, self._clock.monotonic() - self._last_refill)
        return min(self.burst, self._tokens + elapsed * self.drain_rate)

    def _refill(self) -> None:
        now = self._clock.monotonic()
        elapsed = max(0.0, now - self._last_refill)
        self._tokens = min(self.burst, self._tokens + elapsed * self.drain_rate)
        self._last_refill = now

    def try_take(self) -> float:
        """Take a token if one is there (returns 0), else return the wait for the next one (ms-rounded up)."""
        self._refill()
        if self._tokens + self._EPS >= 1:
            self._tokens = max(0.0, self._tokens - 1)
            return 0.0
        deficit_ms = (1 - self._tokens) * 1000 / self.drain_rate
        return math.ceil(round(deficit_ms, 6)) / 1000

    async def acquire(self, on_wait: Callable[[float, int], None] | None = None) -> float:
        """Wait for a token; returns the seconds spent waiting. `on_wait(wait, times)` runs before each sleep."""
        if not self.enabled:
            return 0.0
        start = self._clock.monotonic()
        self._pending += 1
        if self._pending > 1:
            _emit(
                self._log, "debug", LOG_RATE_QUEUE, "rateLimiter request in queue", {"queue": self._pending}
            )
        try:
            async with self._queue_lock():
                times = 0
                while (wait := self.try_take()) > 0:
                    times += 1
                    if on_wait is not None:
                        on_wait(wait, times)
                    await self._clock.sleep(wait)
        finally:
            self._pending -= 1
        return self._clock.monotonic() - start

    def _queue_lock(self) -> asyncio.Lock:
        # An asyncio.Lock belongs to the loop that first waited on it; a limiter reused under a new loop (a second
        # asyncio.run in a script) gets a fresh one. Nobody can be queued on the old loop's lock by then.
        loop = asyncio.get_running_loop()
        if self._lock_loop is not loop and not self._lock.locked():
            self._lock = asyncio.Lock()
            self._lock_loop = loop
        return self._lock

    def on_limit_exceeded(self) -> float:
        """The server said 503 / QUERY_LIMIT_EXCEEDED: empty the bucket; returns the base wait (1/drain + 1 s)."""
        now = self._clock.monotonic()
        self._errors.append(now)
        self._successes.clear()
        self._forget_old_errors(now)
        if self.adaptive and len(self._errors) >= self.ERROR_THRESHOLD:
            self._lower()
        self._tokens = 0.0
        return 1 / self.drain_rate + 1

    def on_success(self) -> None:
        now = self._clock.monotonic()
        self._successes.append(now)
        self._forget_old_errors(now)
        if self.adaptive and self._should_restore():
            self._restore()

    def _forget_old_errors(self, now: float) -> None:
        while self._errors and self._errors[0] <= now - self.ERROR_WINDOW:
            self._errors.popleft()

    def _should_restore(self) -> bool:
        return (
            len(self._successes) >= self.SUCCESS_THRESHOLD
            and len(self._errors) < self.ERROR_THRESHOLD / 2
            and (self.drain_rate < self.original_drain_rate or self.burst < self.original_burst)
        )

    def _lower(self) -> None:
        self.drain_rate = max(self.MIN_DRAIN_RATE, _round2(self.drain_rate * 0.8))
        self.burst = max(self.MIN_BURST, _round2(self.burst * 0.8))
        self._errors.clear()
        self._successes.clear()
        _emit(
            self._log,
            "warning",
            LOG_RATE_LOWERED,
            "rateLimiter is lowering limits due to frequent errors",
            self._limits_context(),
        )

    def _restore(self) -> None:
        self.drain_rate = min(self.original_drain_rate, _round2(self.drain_rate * 1.1))
        self.burst = min(self.original_burst, _round2(self.burst * 1.1))
        self._errors.clear()
        self._successes.clear()
        _emit(
            self._log,
            "warning",
            LOG_RATE_RESTORED,
            "rateLimiter increases limits during stable operation",
            self._limits_context(),
        )

    def _limits_context(self) -> dict[str, Any]:
        return {
            "drain_rate": {"current": self.drain_rate, "original": self.original_drain_rate},
            "burst": {"current": self.burst, "original": self.original_burst},
        }

    def state(self) -> dict[str, Any]:
        return {
            "enabled": self.enabled,
            "tokens": round(self._tokens, 6),
            "burst": self.burst,
            "original_burst": self.original_burst,
            "drain_rate": self.drain_rate,
            "original_drain_rate": self.original_drain_rate,
            "pending": self._pending,
            "recent_errors": len(self._errors),
            "recent_successes": len(self._successes),
        }

    def reset(self) -> None:
        """Back to the configured numbers with a full bucket."""
        self.burst = self.original_burst
        self.drain_rate = self.original_drain_rate
        self._tokens = self.burst
        self._last_refill = self._clock.monotonic()
        self._errors.clear()
        self._successes.clear()


# ------------------------------------------------------------------------------------- operating limiter


@dataclass
class _OperatingStat:
    operating: float  # seconds of server time this method used in the current window
    reset_at: float  # unix seconds when the window resets (0 when unknown)
    updated: float  # clock.monotonic() of the last update


class OperatingLimiter:
    """Per-method budget of server time (`time.operating`, 480 s per 10 min): blocks a method at 475 s."""

    def __init__(
        self,
        clock: Clock,
        *,
        window: float = 600,
        limit: float = 480,
        heavy_percent: float = 80,
        log: LogFn | None = None,
    ) -> None:
        self._clock = clock
        self._log = log
        self.window = window
        self.limit = limit
        self.heavy_percent = heavy_percent
        self._stats: dict[str, _OperatingStat] = {}
        self.heavy_request_count = 0

    def update(self, method: str, operating: float | None, operating_reset_at: float | None) -> None:
        """Record the `time` block of a successful answer (absent counters are normal on-premise: ignored)."""
        operating = _as_float(operating)
        if operating is None:
            return
        self._forget_old()
        key = _method_key(method)
        stat = self._stats.get(key)
        if stat is None:
            stat = self._stats[key] = _OperatingStat(0.0, 0.0, self._clock.monotonic())
        stat.operating = operating
        reset_at = _as_float(operating_reset_at)
        if reset_at is not None:
            stat.reset_at = reset_at
        stat.updated = self._clock.monotonic()
        percent = operating / self.limit * 100
        if percent > self.heavy_percent:
            self.heavy_request_count += 1
            _emit(
                self._log,
                "debug",
                LOG_OPERATING_HEAVY,
                f"operatingLimiter detected limit for method {method}",
                {"method": method, "percent": round(percent, 2), "operating": operating, "max": self.limit},
            )

    def stat(self, method: str) -> _OperatingStat | None:
        self._forget_old()
        return self._stats.get(_method_key(method))

    def time_to_free(self, method: str, batch_methods: Sequence[str] = ()) -> float:
        """Seconds to wait before `method` may run. A batch is billed to `batch` itself (the portal charges the
        whole request there, whatever its commands), so `batch_methods` do not change the answer."""
        self._forget_old()
        stat = self._stats.get(_method_key(method))
        if stat is None:
            return 0.0
        if stat.operating >= max(1.0, self.limit - 5.0):
            now = self._clock.time()
            if stat.reset_at > now:
                return (stat.reset_at - now) + 1.0
            return 5.0
        return 0.0

    def _forget_old(self) -> None:
        now = self._clock.monotonic()
        max_age = self.window + 10.0
        for key in [k for k, s in self._stats.items() if now - s.updated > max_age]:
            del self._stats[key]

    def state(self) -> dict[str, Any]:
        self._forget_old()
        return {
            "heavy_request_count": self.heavy_request_count,
            "operating_stats": {m: _round2(s.operating) for m, s in self._stats.items()},
        }

    def reset(self) -> None:
        self._stats.clear()
        self.heavy_request_count = 0


# -------------------------------------------------------------------------------------- adaptive delayer


class AdaptiveDelayer:
    """Slows a method down once its previous answer reported more than `threshold_percent` of the budget used."""

    DEFAULT_DELAY = 7.0

    def __init__(
        self,
        operating: OperatingLimiter,
        clock: Clock,
        *,
        enabled: bool = True,
        threshold_percent: float = 80,
        coefficient: float = 0.01,
        max_delay: float = 7.0,
        log: LogFn | None = None,
    ) -> None:
        self._operating = operating
        self._clock = clock
        self._log = log
        self.enabled = enabled
        self.threshold_percent = threshold_percent
        self.coefficient = coefficient
        self.max_delay = max_delay
        self.adaptive_delays = 0
        self.total_adaptive_delay = 0.0

    def delay(self, method: str, batch_methods: Sequence[str] = ()) -> float:
        """The delay to apply before `method` (and count it); a batch's is that of `batch` itself."""
        if not self.enabled:
            return 0.0
        wait = self._calculate(method)
        if wait > 0:
            self.adaptive_delays += 1
            self.total_adaptive_delay += wait
        return wait

    def _calculate(self, method: str) -> float:
        stat = self._operating.stat(method)
        if stat is None:
            return 0.0
        percent = stat.operating / self._operating.limit * 100
        if percent <= self.threshold_percent:
            return 0.0
        now = self._clock.time()
        wanted = (stat.reset_at - now) * self.coefficient if stat.reset_at > now else self.DEFAULT_DELAY
        return math.floor(round(min(wanted, self.max_delay) * 1000, 6)) / 1000

    def state(self) -> dict[str, Any]:
        return {
            "adaptive_delays": self.adaptive_delays,
            "total_adaptive_delay": round(self.total_adaptive_delay, 3),
            "adaptive_delay_avg": (
                round(self.total_adaptive_delay / self.adaptive_delays, 3) if self.adaptive_delays else 0.0
            ),
        }

    def reset(self) -> None:
        self.adaptive_delays = 0
        self.total_adaptive_delay = 0.0


# ------------------------------------------------------------------------------------ retry decisions

FailureKind = Literal["http", "timeout", "network_before_send", "network_after_send"]
FAILURE_KINDS: tuple[str, ...] = ("http", "timeout", "network_before_send", "network_after_send")


@dataclass(frozen=True)
class Failure:
    """One failed attempt, as the HTTP client saw it.

    kind: `http` (an answer with an error status or body), `timeout` (sent, no answer in time),
    `network_before_send` (connect failed: the server never saw the call), `network_after_send` (the connection
    broke after the request was written).
    """

    status: int = 0
    code: str = ""
    message: str = ""
    kind: FailureKind | str = "http"

    def __post_init__(self) -> None:
        if self.kind not in FAILURE_KINDS:
            raise ValueError(
                f"unknown failure kind {self.kind!r}; expected one of {', '.join(FAILURE_KINDS)}"
            )

    @property
    def ambiguous(self) -> bool:
        """The server may have run the call: no answer after sending, or a server error other than 503."""
        if self.kind in ("timeout", "network_after_send"):
            return True
        return self.kind == "http" and 500 <= self.status <= 599 and self.status != 503

    @property
    def is_rate_limit(self) -> bool:
        return self.status == 503 or self.code == QUERY_LIMIT_EXCEEDED

    @property
    def is_operating_limit(self) -> bool:
        return self.status == 429 or self.code == OPERATION_TIME_LIMIT


@dataclass(frozen=True)
class RetryDecision:
    retry: bool
    wait: float
    reason: str
    rule: str = ""
    """Which row of the table decided: rate_limit, operating_limit, client_error, hard_code, soft_code,
    missing_parameter, network_disabled, not_idempotent, backoff, exhausted."""


_RETRYABLE_RULES = frozenset({"rate_limit", "operating_limit", "backoff"})


class RestrictionManager:
    """One per HTTP client (v2 and v3 each have their own): limits before calls, retry decisions after failures."""

    LAST_ERRORS_KEPT = 100
    rate: RateLimiter
    adaptive: AdaptiveDelayer
    _successful: int

    def __init__(
        self,
        config: LimitsConfig | None = None,
        clock: Clock | None = None,
        log: LogFn | None = None,
        *,
        rng: random.Random | None = None,
    ) -> None:
        self._clock: Clock = clock or SystemClock()
        self._log = log
        self._rng = rng or random.Random()
        self.config = config or LimitsConfig()
        self.operating = OperatingLimiter(self._clock, log=log)
        self._build(self.config, keep_tokens=False)
        self._zero_stats()
        self._observers: list[Callable[[], None]] = []

    # ---- configuration

    def _build(self, config: LimitsConfig, *, keep_tokens: bool) -> None:
        tokens = self.rate.tokens if keep_tokens else None
        self.rate = RateLimiter(
            config.burst,
            config.drain_rate,
            self._clock,
            adaptive=config.adaptive_enabled,
            enabled=config.proactive,
            log=self._log,
        )
        if tokens is not None:
            self.rate._tokens = min(tokens, self.rate.burst)
        self.operating.window = config.operating_window
        self.operating.limit = config.operating_limit
        self.operating.heavy_percent = config.heavy_percent
        self.adaptive = AdaptiveDelayer(
            self.operating,
            self._clock,
            enabled=config.adaptive_delay_enabled and config.proactive,
            threshold_percent=config.adaptive_threshold_percent,
            coefficient=config.adaptive_coefficient,
            max_delay=config.adaptive_max_delay,
            log=self._log,
        )

    def set_config(self, config: LimitsConfig) -> None:
        """New parameters; the bucket keeps its tokens (capped) and the per-method budgets are kept."""
        self.config = config
        self._build(config, keep_tokens=True)

    @property
    def clock(self) -> Clock:
        return self._clock

    def observe(self, callback: Callable[[], None]) -> Callable[[], None]:
        """Call `callback()` after each attempt takes its token, each success and each retry decision (the
        moments the bucket and the budgets change); returns a function that stops it."""
        self._observers.append(callback)
        return lambda: self._observers.remove(callback) if callback in self._observers else None

    def _changed(self) -> None:
        for callback in list(self._observers):
            with contextlib.suppress(Exception):  # a failing observer must never break a call
                callback()

    # ---- before a call

    async def before_attempt(
        self, method: str, batch_methods: Sequence[str] = (), *, request_id: str | None = None
    ) -> float:
        """Operating wait, else adaptive delay, then a rate token. Returns the seconds waited in total."""
        start = self._clock.monotonic()
        if self.config.proactive:
            wait = self.operating.time_to_free(method, batch_methods)
            if wait > 0:
                self._blocked("operatingLimiter", LOG_OPERATING_BLOCKED, method, wait, request_id)
                await self._clock.sleep(wait)
            else:
                wait = self.adaptive.delay(method, batch_methods)
                if wait > 0:
                    self._blocked("adaptiveDelayer", LOG_ADAPTIVE_DELAY, method, wait, request_id)
                    await self._clock.sleep(wait)

        def on_rate_wait(wait: float, times: int) -> None:
            self._limit_hits += 1
            _emit(
                self._log,
                "notice",
                LOG_RATE_BLOCKED,
                f"rateLimiter blocked method {method} | {times} times",
                self._ctx(method, request_id, wait=round(wait, 3), times=times, limiter="rateLimiter"),
            )

        await self.rate.acquire(on_rate_wait)
        self._changed()
        return self._clock.monotonic() - start

    def _blocked(self, limiter: str, code: str, method: str, wait: float, request_id: str | None) -> None:
        self._limit_hits += 1
        _emit(
            self._log,
            "notice",
            code,
            f"{limiter} blocked method {method}",
            self._ctx(method, request_id, wait=round(wait, 3), limiter=limiter),
        )

    # ---- after a call

    def on_success(
        self,
        method: str,
        time_block: Mapping[str, Any] | Any | None,
        *,
        elapsed: float | None = None,
    ) -> None:
        """A successful answer. `time_block` is its `time` (for a batch, the envelope's: the portal bills the
        whole batch to `batch`; its commands' `result_time` figures are one running total of the request, shown
        as information only). A `time` without `operating` changes no budget."""
        self._successful += 1
        self._count(method, elapsed)
        self._consecutive_errors = 0
        self._error_counts.pop(method, None)
        if time_block is not None:
            self.operating.update(
                method, _field(time_block, "operating"), _field(time_block, "operating_reset_at")
            )
            self.rate.on_success()
        self._changed()

    def decide(
        self,
        method: str,
        failure: Failure,
        attempt: int,
        *,
        batch_methods: Sequence[str] = (),
        request_id: str | None = None,
        elapsed: float | None = None,
        keyed: bool = False,
    ) -> RetryDecision:
        """Whether to send attempt `attempt + 1` (attempts count from 0) and how long to wait before it.

        The caller sleeps `wait` itself (through the same clock). The last attempt never waits. `keyed`: the
        call carries an Idempotency-Key (a v3 write), so a re-send after an ambiguous failure is safe.
        """
        self._failed += 1
        self._count(method, elapsed)
        self._consecutive_errors += 1
        self._error_counts[method] = self._error_counts.get(method, 0) + 1
        self._last_errors.append(
            {
                "method": method,
                "code": failure.code,
                "status": failure.status,
                "timestamp": self._clock.time(),
            }
        )
        ctx = self._ctx(
            method,
            request_id,
            attempt={"current": attempt + 1, "max": self.config.max_retries},
            error={"code": failure.code, "status": failure.status, "message": failure.message},
        )
        rule, reason = self._classify(method, failure, batch_methods, keyed)

        if attempt + 1 >= self.config.max_retries:
            _emit(self._log, "warning", LOG_RETRIES_EXHAUSTED, "http all retry attempts exhausted", ctx)
            if rule in _RETRYABLE_RULES:
                n = self.config.max_retries
                rule, reason = "exhausted", f"all {n} attempt{'s' if n != 1 else ''} used"
            return RetryDecision(False, 0.0, reason, rule)

        if rule == "rate_limit":
            wait = self.rate.on_limit_exceeded() * 1.5**attempt
            _emit(
                self._log,
                "error",
                QUERY_LIMIT_EXCEEDED,
                f"rateLimiter recognized the {QUERY_LIMIT_EXCEEDED} error for the {method} method",
                {**ctx, "wait": round(wait, 3), "limiter": "rateLimiter"},
            )
        elif rule == "operating_limit":
            wait = max(10.0, self.operating.time_to_free(method, batch_methods))
            _emit(
                self._log,
                "error",
                OPERATION_TIME_LIMIT,
                f"operatingLimiter recognized the {OPERATION_TIME_LIMIT} error for the {method} method",
                {**ctx, "wait": round(wait, 3), "limiter": "operatingLimiter"},
            )
        elif rule == "backoff":
            wait = self.backoff(attempt)
            _emit(
                self._log,
                "error",
                failure.code or "?",
                f"recognized the {failure.code or '?'} error for the {method} method",
                {**ctx, "wait": round(wait, 3)},
            )
        else:
            if rule == "client_error":
                _emit(self._log, "error", LOG_CLIENT_ERROR, reason, ctx)
            elif rule == "not_idempotent":
                _emit(self._log, "warning", LOG_NOT_RETRIED_AMBIGUOUS, reason, ctx)
            return RetryDecision(False, 0.0, reason, rule)

        self._limit_hits += 1
        self._retries += 1
        _emit(
            self._log, "debug", LOG_HTTP_WAIT, f"http wait {wait:.2f} sec.", {**ctx, "wait": round(wait, 3)}
        )
        self._changed()
        return RetryDecision(True, wait, reason, rule)

    def _classify(
        self, method: str, failure: Failure, batch_methods: Sequence[str], keyed: bool = False
    ) -> tuple[str, str]:
        """The §4.3 table in order, plus the rule for non-idempotent methods. Pure: no side effects."""
        code = str(failure.code or "")
        if failure.is_rate_limit:
            return "rate_limit", f"rate limit exceeded ({failure.status or code}); the call did not run"
        if failure.is_operating_limit:
            return "operating_limit", f"operating time limit of {method} reached; the call did not run"
        if 400 <= failure.status <= 499 and failure.status != 408:
            return (
                "client_error",
                f"client error {failure.status} ({code}) for the {method} method is not retryable",
            )
        if code in self.config.all_soft_codes:
            return "soft_code", f"{code} is not retried"
        if code in self.config.all_hard_codes:
            return "hard_code", f"{code} is not retried"
        if MISSING_PARAMETER_TEXT in (failure.message or ""):
            return "missing_parameter", f"{MISSING_PARAMETER_TEXT.lower()}: not retried"
        if not self.config.retry_on_network_error and failure.kind != "http":
            return (
                "network_disabled",
                f"{code or failure.kind} is not retried (retry on network errors is off)",
            )
        if failure.ambiguous and is_non_idempotent(method, batch_methods) and not keyed:
            return "not_idempotent", f"not retried: {method} may have run on the server"
        if failure.ambiguous and keyed:
            return "backoff", f"{code or failure.kind}: re-sent with the same Idempotency-Key"
        return "backoff", f"{code or failure.kind} (status {failure.status}): retrying with backoff"

    def backoff(self, attempt: int) -> float:
        """Wait before retrying a 5xx/network failure: doubling from `retry_delay`, capped, ±10 % jitter."""
        base = self.config.retry_delay
        delay = min(max(30.0, base), base * 2**attempt)
        jitter = delay * 0.1 * self._rng.uniform(-1, 1)
        return max(0.1, delay + jitter)

    # ---- stats

    def _count(self, method: str, elapsed: float | None) -> None:
        self._total += 1
        entry = self._by_method.setdefault(method, {"count": 0, "total_duration": 0.0})
        entry["count"] += 1
        if elapsed is not None:
            self._total_duration += elapsed
            entry["total_duration"] += elapsed

    def _zero_stats(self) -> None:
        self._retries = 0
        self._consecutive_errors = 0
        self._limit_hits = 0
        self._error_counts: dict[str, int] = {}
        self._total = 0
        self._successful = 0
        self._failed = 0
        self._total_duration = 0.0
        self._by_method: dict[str, dict[str, Any]] = {}
        self._last_errors: deque[dict[str, Any]] = deque(maxlen=self.LAST_ERRORS_KEPT)

    def stats(self) -> dict[str, Any]:
        return {
            "retries": self._retries,
            "consecutive_errors": self._consecutive_errors,
            "limit_hits": self._limit_hits,
            "rate": self.rate.state(),
            **self.adaptive.state(),
            **self.operating.state(),
            "error_counts": dict(self._error_counts),
            "total_requests": self._total,
            "successful_requests": self._successful,
            "failed_requests": self._failed,
            "total_duration": round(self._total_duration, 3),
            "by_method": {m: dict(v) for m, v in self._by_method.items()},
            "last_errors": list(self._last_errors),
        }

    def reset(self) -> None:
        """Limiters back to the configuration, budgets forgotten, counters zeroed."""
        self.rate.reset()
        self.operating.reset()
        self.adaptive.reset()
        self._zero_stats()

    def _ctx(self, method: str, request_id: str | None, **extra: Any) -> dict[str, Any]:
        ctx: dict[str, Any] = {"method": method}
        if request_id is not None:
            ctx["request_id"] = request_id
        ctx.update(extra)
        return ctx


__all__ = [
    "HARD_CODES",
    "SOFT_CODES",
    "AdaptiveDelayer",
    "Failure",
    "LimitsConfig",
    "OperatingLimiter",
    "RateLimiter",
    "RestrictionManager",
    "RetryDecision",
    "command_method",
    "is_non_idempotent",
    "is_read_only",
]
