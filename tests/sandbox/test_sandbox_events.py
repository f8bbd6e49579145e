"""The sandbox's offline-event queue over plain HTTP: the documented answer shapes of event.offline.*, the
filter and order, paging, a rolled-back v3 batch firing nothing, and webhooks refused."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from test_sandbox_oauth import first_pair

from b24explorer.sandbox import Sandbox
from b24explorer.sandbox.events import php_form


@pytest.fixture
def portal(make_sandbox: Any) -> Sandbox:
    return make_sandbox(deals=20)


@pytest.fixture
def call(portal: Sandbox) -> Iterator[Any]:
    with httpx.Client(base_url=portal.base_url, timeout=30) as web:
        token = first_pair(web, portal)["access_token"]

        def send(method: str, api: int = 2, **params: Any) -> Any:
            prefix = "/rest/api" if api == 3 else "/rest"
            return web.post(f"{prefix}/{method}", json={"auth": token, **params}).json()

        yield send


def test_queue_answers_have_the_documented_shape(call: Any) -> None:
    assert call("event.bind", event="ONCRMDEALADD", event_type="offline")["result"] is True
    ids = [call("crm.deal.add", fields={"TITLE": f"d{i}"})["result"] for i in range(3)]
    listed = call("event.offline.list", order={"ID": "DESC"})
    assert listed["total"] == 3
    assert [r["EVENT_DATA"]["FIELDS"]["ID"] for r in listed["result"]] == list(reversed(ids))
    row = listed["result"][0]
    assert set(row) == {"ID", "TIMESTAMP_X", "EVENT_NAME", "EVENT_DATA", "EVENT_ADDITIONAL", "MESSAGE_ID",
                        "PROCESS_ID", "ERROR"}
    assert (row["PROCESS_ID"], row["ERROR"]) == ("", "0")

    one = call("event.offline.get", filter={"=ID": row["ID"]}, clear=0)["result"]
    assert one["process_id"]
    assert [e["ID"] for e in one["events"]] == [row["ID"]]
    assert "PROCESS_ID" not in one["events"][0]
    taken = call("event.offline.get", limit=1)["result"]
    assert taken["process_id"] is None
    assert [e["EVENT_DATA"]["FIELDS"]["ID"] for e in taken["events"]] == [ids[0]]  # TIMESTAMP_X:ASC, first
    assert call("event.offline.clear")["error"] == "ERROR_ARGUMENT"  # process_id is required
    assert call("event.offline.clear", process_id=one["process_id"])["result"] is True
    assert [r["EVENT_DATA"]["FIELDS"]["ID"] for r in call("event.offline.list")["result"]] == [ids[1]]


def test_list_pages_by_fifty(call: Any) -> None:
    call("event.bind", event="ONCRMCONTACTADD", event_type="offline")
    for i in range(55):
        call("crm.contact.add", fields={"NAME": f"c{i}"})
    first = call("event.offline.list")
    assert (len(first["result"]), first["total"], first["next"]) == (50, 55, 50)
    assert len(call("event.offline.list", start=50)["result"]) == 5


def test_a_rolled_back_v3_batch_fires_nothing(call: Any) -> None:
    call("event.bind", event="ONTASKADD", event_type="offline")
    add = {"method": "tasks.task.add", "query": {"fields": {"title": "t", "creatorId": 1, "responsibleId": 1}}}
    failed = call("batch", api=3, **{"0": add, "1": {"method": "tasks.task.get", "query": {"id": 10**9}}})
    assert "error" in failed
    assert call("event.offline.list")["result"] == []
    call("batch", api=3, **{"0": add})
    assert len(call("event.offline.list")["result"]) == 1


def test_webhooks_get_the_app_context_error(portal: Sandbox) -> None:
    with httpx.Client(base_url=portal.webhook_url) as hook:
        for method in ("event.offline.get", "event.offline.list", "event.offline.clear", "event.offline.error"):
            answer = hook.post(method)
            assert answer.status_code == 403
            assert answer.json()["error"] == "WRONG_AUTH_TYPE"


def test_payloads_are_form_encoded_as_php_writes_them() -> None:
    body = php_form({"event": "ONCRMDEALADD", "data": {"FIELDS": {"ID": 5}}, "auth": {"domain": "d"}})
    assert body == b"event=ONCRMDEALADD&data%5BFIELDS%5D%5BID%5D=5&auth%5Bdomain%5D=d"
