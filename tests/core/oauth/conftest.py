"""Fixtures of the app-connection tests: a private sandbox portal with its application registered at start."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from keyring_backends import MemoryKeyring, memory_keyring_installed

from b24explorer.sandbox import Sandbox


@pytest.fixture
def app_portal(make_sandbox: Callable[..., Sandbox]) -> Sandbox:
    """A portal of its own: expiring its tokens touches no other test."""
    return make_sandbox(deals=120)


@pytest.fixture
def memory_keyring(app_home: Path) -> Iterator[MemoryKeyring]:
    """An in-memory keyring (and a private app home) for tests that are not about the real Secret Service."""
    with memory_keyring_installed() as backend:
        yield backend
