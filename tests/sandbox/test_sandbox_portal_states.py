"""Portal states the core must cope with: no REST v3, no operating time in `time`, Idempotency-Key lifetime."""

from __future__ import annotations

from collections.abc import Callable

import httpx

from b24explorer.sandbox import Sandbox

P = "BITRIX_REST_V3_EXCEPTION_"


class FakeClock:
    def __init__(self, now: float = 1_800_000_000.0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


def test_a_portal_without_rest_v3(make_sandbox: Callable[..., Sandbox]) -> None:
    sb = make_sandbox(deals=3, rest_v3=False)
    with httpx.Client(base_url=f"{sb.base_url}/rest/api/1/{sb.secret}/") as c:
        doc = c.post("rest.documentation.openapi", json={})
        task = c.post("tasks.task.list", json={})
    assert (doc.status_code, doc.json()["error"]) == (404, "ERROR_METHOD_NOT_FOUND")
    assert task.json()["error"] == "ERROR_METHOD_NOT_FOUND"
    with httpx.Client(base_url=sb.webhook_url) as c:
        assert c.post("crm.deal.get", json={"id": 1}).status_code == 200  # v2 is unchanged


def test_time_without_operating(make_sandbox: Callable[..., Sandbox]) -> None:
    sb = make_sandbox(deals=3, operating_time=False)
    with httpx.Client(base_url=sb.webhook_url) as c:
        single = c.post("crm.deal.list").json()["time"]
        batch = c.post("batch", json={"cmd": ["crm.deal.list"]}).json()
    assert "operating" not in single
    assert "operating_reset_at" not in single
    assert "operating" not in batch["time"]
    assert "operating" not in batch["result"]["result_time"][0]
    assert single["duration"] >= 0


def test_rest_scope_list_maps_methods_to_scopes(sb: Sandbox) -> None:
    with httpx.Client(base_url=f"{sb.base_url}/rest/api/1/{sb.secret}/") as c:
        mapping = c.post("rest.scope.list", json={}).json()["result"]["item"]
    assert mapping["tasks.task.list"] == "tasks"  # the scope the v3 docs give


def test_idempotent_answer_kept_for_24_hours(make_sandbox: Callable[..., Sandbox]) -> None:
    clock = FakeClock()
    sb = make_sandbox(deals=3, clock=clock)
    body = {"fields": {"title": "Once", "creatorId": 1, "responsibleId": 1}}
    with httpx.Client(base_url=f"{sb.base_url}/rest/api/1/{sb.secret}/") as c:
        first = c.post("tasks.task.add", json=body, headers={"Idempotency-Key": "k"})
        clock.now += 24 * 3600 - 1
        replay = c.post("tasks.task.add", json=body, headers={"Idempotency-Key": "k"})
        clock.now += 2
        again = c.post("tasks.task.add", json=body, headers={"Idempotency-Key": "k"})
        read = c.post("tasks.task.get", json={"id": 1}, headers={"Idempotency-Key": "k"})
    assert replay.headers["Idempotent-Replayed"] == "true"
    assert replay.content == first.content
    assert "Idempotent-Replayed" not in again.headers
    assert again.json()["result"]["item"]["id"] != first.json()["result"]["item"]["id"]
    assert sb.counters.writes("tasks.task.add") == 2
    assert "Idempotency-Key" not in read.headers  # reads ignore the key
