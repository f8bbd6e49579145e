"""v3 writes carry an Idempotency-Key and are re-sent with it after an ambiguous failure; v2 writes never are."""

from __future__ import annotations

from typing import Any

import pytest

from b24explorer.core import AjaxError
from b24explorer.core.client import IDEMPOTENT_REPLAYED_CODE
from b24explorer.core.limits import LOG_NOT_RETRIED_AMBIGUOUS

TASK = {"fields": {"title": "Once only", "creatorId": 1, "responsibleId": 1}}


def record_headers(client: Any) -> list[tuple[str, dict[str, str]]]:
    sent: list[tuple[str, dict[str, str]]] = []
    send = client._send

    async def recording(url: str, query: Any, body: bytes, on_sent: Any = None, headers: Any = None) -> Any:
        sent.append((url.rsplit("/", 1)[-1], dict(headers or {})))
        return await send(url, query, body, on_sent, headers)

    client._send = recording
    return sent


async def test_a_v3_write_carries_a_key_and_a_read_does_not(make_client, sb) -> None:
    client, _, _ = make_client(sb.webhook_url, v3_methods=())
    sent = record_headers(client)
    async with client:
        added = await client.call("tasks.task.add", TASK, api=3)
        await client.call("tasks.task.get", {"id": 1}, api=3)
        await client.call("crm.deal.add", {"fields": {"TITLE": "v2"}})
    keys = [headers.get("Idempotency-Key") for _, headers in sent]
    assert keys[0] is not None
    assert keys[1:] == [None, None]  # a read, and a v2 write (v2 ignores the header)
    assert added.idempotency_key == keys[0]  # the portal echoed it
    assert not added.replayed


async def test_a_v3_write_that_timed_out_is_re_sent_with_the_same_key(make_client, sb) -> None:
    sb.faults.add("delay", method="tasks.task.add", count=1, seconds=1.5)
    client, log, clock = make_client(sb.webhook_url, v3_methods=(), timeout=0.5)
    sent = record_headers(client)
    async with client:
        res = await client.call("tasks.task.add", TASK, api=3, idempotency_key="order-42")
    assert [headers["Idempotency-Key"] for _, headers in sent] == ["order-42", "order-42"]
    assert clock.slept > 0  # the retry waited its backoff
    assert res.is_success
    assert res.replayed
    assert sb.counters.writes("tasks.task.add") == 1  # the task exists once
    replayed = log.with_code(IDEMPOTENT_REPLAYED_CODE)
    assert len(replayed) == 1
    assert "order-42" in replayed[0].message


async def test_a_v2_write_that_timed_out_is_never_re_sent(make_client, sb) -> None:
    sb.faults.add("delay", method="crm.deal.add", count=1, seconds=1.5)
    client, log, _ = make_client(sb.webhook_url, v3_methods=(), timeout=0.5)
    async with client:
        with pytest.raises(AjaxError) as info:
            await client.call("crm.deal.add", {"fields": {"TITLE": "maybe"}})
    assert info.value.code == "REQUEST_TIMEOUT"
    assert client.requests_sent == 1
    assert LOG_NOT_RETRIED_AMBIGUOUS in log.codes()
    assert sb.counters.writes("crm.deal.add") == 1


async def test_a_key_reused_with_another_body_is_explained(make_client, sb) -> None:
    client, _, _ = make_client(sb.webhook_url, v3_methods=())
    async with client:
        first = await client.call("tasks.task.add", TASK, api=3, idempotency_key="k-1")
        other = {"fields": {**TASK["fields"], "title": "Another"}}
        refused = await client.call("tasks.task.add", other, api=3, idempotency_key="k-1")
    assert first.is_success
    assert not refused.is_success
    assert refused.status == 422
    assert refused.error.code == "BITRIX_REST_V3_EXCEPTION_IDEMPOTENCYKEYREUSEDEXCEPTION"
    assert "k-1" in refused.error.message
    assert "different request body" in refused.error.message
    assert "new key" in refused.error.message
