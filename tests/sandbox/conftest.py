"""Helpers for the sandbox's own tests: plain httpx clients aimed at a portal."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest

from b24explorer.sandbox import Sandbox


@pytest.fixture
def http(sb: Sandbox) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=sb.webhook_url, timeout=30) as client:
        yield client


@pytest.fixture
def v3(sb: Sandbox) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=f"{sb.base_url}/rest/api/1/{sb.secret}/", timeout=30) as client:
        yield client
