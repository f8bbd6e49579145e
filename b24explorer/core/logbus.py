"""One structured log stream that the UI log pane and the CLI both consume.

Records are plain values with their context already redacted. Emitting never raises into the caller: a failing
subscriber is dropped from that delivery and reported once to the stdlib `logging` module.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Iterable
from enum import IntEnum
from typing import TYPE_CHECKING, Any

from .redact import redact, redact_text, truncate

if TYPE_CHECKING:
    from .log_record import LogRecord

_fallback = logging.getLogger("b24explorer.core")


class Level(IntEnum):
    """Monolog-style levels, as in the JS SDK."""

    DEBUG = 0
    INFO = 1
    NOTICE = 2
    WARNING = 3
    ERROR = 4
    CRITICAL = 5
    ALERT = 6
    EMERGENCY = 7

    @classmethod
    def coerce(cls, value: Level | int | str) -> Level:
        if isinstance(value, Level):
            return value
        if isinstance(value, str):
            return cls[value.strip().upper()]
        return cls(int(value))


Subscriber = Callable[["LogRecord"], Any]


class LogBus:
    """Publish/subscribe for LogRecords. Thread-safe subscription; delivery happens in the emitting thread."""

    def __init__(self, *, min_level: Level = Level.DEBUG, keep: int = 0) -> None:
        self._subscribers: list[Subscriber] = []
        self._lock = threading.Lock()
        self._secrets: tuple[str, ...] = ()
        self.min_level = min_level
        self._keep = keep
        self.history: list[LogRecord] = []

    def subscribe(self, callback: Subscriber) -> Callable[[], None]:
        with self._lock:
            self._subscribers.append(callback)
        return lambda: self.unsubscribe(callback)

    def unsubscribe(self, callback: Subscriber) -> None:
        with self._lock:
            if callback in self._subscribers:
                self._subscribers.remove(callback)

    def add_secret(self, secret: str) -> None:
        """Every later record masks this text wherever it appears (message or context)."""
        if secret and secret not in self._secrets:
            self._secrets = (*self._secrets, secret)

    def emit(
        self,
        level: Level | int | str,
        code: str,
        message: str,
        *,
        method: str | None = None,
        request_id: str | None = None,
        context: dict[str, Any] | None = None,
        secrets: Iterable[str] = (),
        connection: str | None = None,
    ) -> LogRecord | None:
        try:
            lvl = Level.coerce(level)
            if lvl < self.min_level:
                return None
            known = (*self._secrets, *secrets)
            ctx = redact(dict(context or {}), secrets=known)
            ctx = {k: (truncate(v) if isinstance(v, str) else v) for k, v in ctx.items()}
            from .log_record import LogRecord  # with the first record: the window's start logs nothing

            record = LogRecord(
                level=lvl,
                code=str(code),
                message=redact_text(str(message), known),
                method=method,
                request_id=request_id,
                context=ctx,
                connection=connection,
            )
        except Exception:  # a log call must never break the caller
            _fallback.exception("could not build a log record")
            return None
        self._deliver(record)
        return record

    def _deliver(self, record: LogRecord) -> None:
        if self._keep:
            self.history.append(record)
            del self.history[: -self._keep]
        with self._lock:
            subscribers = list(self._subscribers)
        for callback in subscribers:
            try:
                callback(record)
            except Exception:
                _fallback.exception("a log subscriber failed")

    # Level shortcuts
    def debug(self, code: str, message: str, **kw: Any) -> LogRecord | None:
        return self.emit(Level.DEBUG, code, message, **kw)

    def info(self, code: str, message: str, **kw: Any) -> LogRecord | None:
        return self.emit(Level.INFO, code, message, **kw)

    def notice(self, code: str, message: str, **kw: Any) -> LogRecord | None:
        return self.emit(Level.NOTICE, code, message, **kw)

    def warning(self, code: str, message: str, **kw: Any) -> LogRecord | None:
        return self.emit(Level.WARNING, code, message, **kw)

    def error(self, code: str, message: str, **kw: Any) -> LogRecord | None:
        return self.emit(Level.ERROR, code, message, **kw)

    def as_callable(self) -> Callable[[Any, str, str, dict[str, Any] | None], None]:
        """`log(level, code, message, context)` — the shape the limits layer expects."""

        def log(level: Any, code: str, message: str, context: dict[str, Any] | None = None) -> None:
            ctx = dict(context or {})
            self.emit(
                level,
                code,
                message,
                method=ctx.get("method"),
                request_id=ctx.get("request_id"),
                context=ctx,
            )

        return log


class ConnectionLog(LogBus):
    """One connection's view of a bus: what is logged through it reaches the bus stamped with the connection's
    name (asked at each record, so a rename shows at once); subscriptions and secrets are the bus's."""

    def __init__(self, bus: LogBus, name: Callable[[], str]) -> None:
        super().__init__(min_level=bus.min_level)
        self.bus = bus
        self._name = name

    def subscribe(self, callback: Subscriber) -> Callable[[], None]:
        return self.bus.subscribe(callback)

    def unsubscribe(self, callback: Subscriber) -> None:
        self.bus.unsubscribe(callback)

    def add_secret(self, secret: str) -> None:
        self.bus.add_secret(secret)

    def emit(self, level: Level | int | str, code: str, message: str, **kw: Any) -> LogRecord | None:
        if kw.get("connection") is None:
            try:
                kw["connection"] = self._name() or None
            except Exception:  # a log call must never break the caller
                kw["connection"] = None
        return self.bus.emit(level, code, message, **kw)
