"""Fixtures of the app-connection tests: a private sandbox portal with its application registered at start."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from b24explorer.sandbox import Sandbox


@pytest.fixture
def app_portal(make_sandbox: Callable[..., Sandbox]) -> Sandbox:
    """A portal of its own: expiring its tokens touches no other test."""
    return make_sandbox(deals=120)
