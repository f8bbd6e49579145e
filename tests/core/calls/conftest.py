"""Fixtures of the call-layer tests: a client on a sandbox with a fake clock and a captured log."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from b24explorer.core import B24Client, Level, LimitsConfig, LogBus, LogRecord
from b24explorer.core.clock import FakeClock


class Captured:
    """Every log record a client emitted."""

    def __init__(self, bus: LogBus) -> None:
        self.records: list[LogRecord] = []
        bus.subscribe(self.records.append)

    def codes(self, level: Level | None = None) -> list[str]:
        return [r.code for r in self.records if level is None or r.level == level]

    def with_code(self, code: str) -> list[LogRecord]:
        return [r for r in self.records if r.code == code]

    def text(self) -> str:
        return "\n".join(f"{r.format_line()} {r.context!r}" for r in self.records)


def _make_client(url: str, **kw: Any) -> tuple[B24Client, Captured, FakeClock]:
    """A client with FakeClock (waits are recorded, never slept) and no proactive limiter unless asked."""
    clock = kw.pop("clock", None) or FakeClock()
    bus = kw.pop("log", None) or LogBus()
    captured = Captured(bus)
    kw.setdefault("limits", LimitsConfig.unlimited())
    client = B24Client(url, log=bus, clock=clock, **kw)
    return client, captured, clock


@pytest.fixture
def make_client() -> Callable[..., tuple[B24Client, Captured, FakeClock]]:
    """`make_client(url, **B24Client kwargs) -> (client, captured log, fake clock)`."""
    return _make_client
