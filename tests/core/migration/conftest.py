"""Plain httpx clients on the sandbox's v2 and v3 endpoints, and the v3 schemas its OpenAPI document gives."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest
from migration_portal import Portal

from b24explorer.core.migration import SchemaSet
from b24explorer.sandbox import Sandbox


@pytest.fixture
def portal(sb: Sandbox) -> Iterator[Portal]:
    with httpx.Client(base_url=sb.webhook_url, timeout=30) as v2, \
            httpx.Client(base_url=f"{sb.base_url}/rest/api/1/{sb.secret}/", timeout=30) as v3:
        yield Portal(sb, v2, v3)


@pytest.fixture
def schemas(portal: Portal) -> SchemaSet:
    """The schema set a connection builds from its portal's `rest.documentation.openapi`."""
    document = portal.v3.post("rest.documentation.openapi", json={}).json()
    return SchemaSet(document)
