"""Shared fixtures: a sandbox portal on loopback for every test that needs a Bitrix24 to talk to.

- `sandbox`: one session-wide portal (200 deals, unlimited plan). Prefer `sb`, which hands out the same
  portal with faults, counters, limit state and
  the seeded data restored before each test.
- `make_sandbox(**kwargs)`: a private portal (e.g. 10,000 deals, the standard plan, a fake clock),
  stopped after the test.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest

from b24explorer.sandbox import Sandbox


@pytest.fixture(autouse=True)
def _app_home(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> None:
    """No test writes into the user's real config, data, cache or log directories (fixtures may narrow it)."""
    monkeypatch.setenv("B24X_HOME", str(tmp_path_factory.mktemp("b24x-home")))


@pytest.fixture(scope="session")
def sandbox() -> Iterator[Sandbox]:
    sb = Sandbox(seed=1, deals=200, plan="unlimited")
    sb.start()
    try:
        yield sb
    finally:
        sb.stop()


@pytest.fixture
def sb(sandbox: Sandbox) -> Sandbox:
    sandbox.reset()
    sandbox.restore_data()  # a write in an earlier test must not change what this one sees
    return sandbox


@pytest.fixture
def make_sandbox() -> Iterator[Callable[..., Sandbox]]:
    started: list[Sandbox] = []

    def factory(**kwargs: Any) -> Sandbox:
        kwargs.setdefault("seed", 1)
        kwargs.setdefault("deals", 200)
        kwargs.setdefault("plan", "unlimited")
        instance = Sandbox(**kwargs)
        instance.start()
        started.append(instance)
        return instance

    yield factory
    for instance in started:
        instance.stop()
