"""Fixtures of the reliability tests: every unhandled exception fails the test, and secrets are scanned for.

- `unhandled` (autouse): records what reaches an asyncio loop's exception handler ("Task exception was never
  retrieved", exceptions in callbacks), `sys.excepthook` (Qt slots), `threading.excepthook` and
  `sys.unraisablehook`; the test fails at teardown if anything arrived.
- `rel_home`: confines every file the app writes (config, data, cache, logs) under a temporary `B24X_HOME`.
"""

from __future__ import annotations

import asyncio
import gc
import os
import sys
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import keyring
import pytest
import rel_keyrings

# Warnings of the offscreen platform and of the machine's fonts, not of the app.
PLATFORM_NOISE = (r"This plugin does not support propagateSizeHints\(\)",
                  r"This plugin does not support raise\(\)",
                  r"This plugin does not support grabbing the keyboard",
                  r"OpenType support missing for")  # the machine's fonts lack shaping for some scripts


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    here = Path(__file__).parent
    for item in items:
        if here in Path(str(item.fspath)).parents:
            item.add_marker(pytest.mark.qt_log_ignore(*PLATFORM_NOISE))


class Unhandled:
    def __init__(self) -> None:
        self.events: list[str] = []

    def add(self, where: str, detail: Any) -> None:
        self.events.append(f"{where}: {detail!r}")


@pytest.fixture(autouse=True)
def unhandled(monkeypatch: pytest.MonkeyPatch) -> Iterator[Unhandled]:
    seen = Unhandled()
    original = asyncio.base_events.BaseEventLoop.call_exception_handler

    def call_exception_handler(self: Any, context: dict[str, Any]) -> None:
        seen.add("asyncio", context.get("exception") or context.get("message"))
        original(self, context)

    monkeypatch.setattr(asyncio.base_events.BaseEventLoop, "call_exception_handler", call_exception_handler)
    previous_hook = sys.excepthook

    def excepthook(kind: type[BaseException], value: BaseException, tb: Any) -> None:
        seen.add("sys.excepthook", value)
        previous_hook(kind, value, tb)

    monkeypatch.setattr(sys, "excepthook", excepthook)
    monkeypatch.setattr(threading, "excepthook", lambda args: seen.add("thread", args.exc_value))
    monkeypatch.setattr(sys, "unraisablehook", lambda args: seen.add("unraisable", args.exc_value))
    yield seen
    gc.collect()  # an un-awaited failed task reports itself when it is collected
    assert not seen.events, "unhandled exceptions:\n" + "\n".join(seen.events)


@pytest.fixture
def rel_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    home = tmp_path / "b24x-home"
    monkeypatch.setenv("B24X_HOME", str(home))
    return home


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    """With B24X_REL_REPORT=path, write the counted figures (fuzz cases run and others) there as JSON."""
    import json
    import os

    target = os.environ.get("B24X_REL_REPORT")
    if not target:
        return
    from rel_stats import COUNTS

    Path(target).write_text(json.dumps(dict(COUNTS), indent=2), encoding="utf-8")


@pytest.fixture(scope="session")
def _write_portal() -> Iterator[Any]:
    from b24explorer.sandbox import Sandbox

    with Sandbox(seed=7, deals=60, plan="unlimited") as portal:
        yield portal


@pytest.fixture
def wsb(_write_portal: Any) -> Any:
    """A portal of the reliability tests' own for writes (deals added, updated), so the shared `sb` portal other
    suites count on stays as seeded. Faults, counters and limits are reset before each test."""
    _write_portal.reset()
    return _write_portal


@pytest.fixture
def working_keyring() -> Iterator[keyring.backend.KeyringBackend]:
    """The real Secret Service inside the test D-Bus session, else an in-memory keyring."""
    previous = keyring.get_keyring()
    real = os.environ.get("B24X_REAL_KEYRING") == "1"
    backend = previous if real else rel_keyrings.DictKeyring()
    keyring.set_keyring(backend)
    yield backend
    keyring.set_keyring(previous)
