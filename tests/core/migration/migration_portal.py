"""A sandbox portal seen through its v2 and v3 endpoints, for the migration tests."""

from __future__ import annotations

from typing import Any

import httpx

from b24explorer.sandbox import Sandbox


class Portal:
    def __init__(self, sb: Sandbox, v2: httpx.Client, v3: httpx.Client) -> None:
        self.sb = sb
        self.v2 = v2
        self.v3 = v3

    def call_v2(self, method: str, params: Any) -> Any:
        reply = self.v2.post(method, json=params)
        assert reply.status_code == 200, reply.text
        return reply.json()["result"]

    def call_v3(self, method: str, params: Any) -> Any:
        reply = self.v3.post(method, json=params)
        assert reply.status_code == 200, reply.text
        return reply.json()["result"]

    def v3_error(self, method: str, params: Any) -> dict[str, Any]:
        reply = self.v3.post(method, json=params)
        assert reply.status_code == 400, reply.text
        return reply.json()["error"]
