"""Byte-level request shape (what a server would not echo back): URL, query, headers, body, request-id reuse."""

from __future__ import annotations

import json

import httpx
import pytest

from b24explorer import __version__
from b24explorer.core import AjaxError

SECRET = "wireSecret12345678"
HOOK = f"https://portal.example.com/rest/5/{SECRET}/"


def recorder(answers):
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        if request.url.path.endswith("/rest.documentation.openapi"):
            return httpx.Response(200, json={"openapi": "3.0.0", "paths": {"/tasks.task.get": {}}})
        status, body = answers.pop(0) if answers else (200, {"result": True, "time": {}})
        return httpx.Response(status, json=body)

    return seen, httpx.MockTransport(handler)


async def test_v2_and_v3_request_shape(make_client) -> None:
    seen, transport = recorder([])
    client, _, _ = make_client(HOOK, transport=transport, v3_methods=())
    async with client:
        await client.call("crm.deal.get", {"id": 7, "name": "Ünïcode"}, request_id="rid-1")
        await client.call("tasks.task.get", {"id": 7}, api=3, request_id="rid-2")
    v2, v3 = seen
    assert v2.method == "POST"
    assert str(v2.url) == f"https://portal.example.com/rest/5/{SECRET}/crm.deal.get?bx24_request_id=rid-1"
    assert (
        str(v3.url) == f"https://portal.example.com/rest/api/5/{SECRET}/tasks.task.get?bx24_request_id=rid-2"
    )
    assert v2.headers["content-type"] == "application/json"
    assert v2.headers["user-agent"] == f"b24explorer/{__version__}"
    assert json.loads(v2.content) == {"id": 7, "name": "Ünïcode"}


async def test_legacy_task_methods_get_no_query_string(make_client) -> None:
    seen, transport = recorder([])
    client, _, _ = make_client(HOOK, transport=transport, v3_methods=())
    async with client:
        await client.call("task.commentitem.add", [123, {"POST_MESSAGE": "hi"}])
        await client.call("tasks.task.list", {})
    assert seen[0].url.query == b""
    assert json.loads(seen[0].content) == [123, {"POST_MESSAGE": "hi"}]
    assert seen[1].url.params["bx24_request_id"]  # tasks.task.* keeps it


async def test_same_request_id_on_every_retry_and_generated_uuid7(make_client) -> None:
    busy = {"error": "QUERY_LIMIT_EXCEEDED", "error_description": "Too many requests"}
    seen, transport = recorder([(503, busy), (503, busy)])
    client, _, clock = make_client(HOOK, transport=transport, v3_methods=())
    async with client:
        res = await client.call("crm.deal.list", {})
    ids = {r.url.params["bx24_request_id"] for r in seen}
    assert len(seen) == 3
    assert ids == {res.request_id}
    assert res.request_id[14] == "7"  # UUID version nibble
    assert len(clock.sleeps) == 2


async def test_answer_that_is_not_json_shows_a_masked_excerpt(make_client) -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        page = f"<html><body>Error at {request.url} — auth=abc123 please retry</body></html>"
        return httpx.Response(200, text=page, headers={"content-type": "text/html"})

    client, log, _ = make_client(HOOK, transport=httpx.MockTransport(handler), v3_methods=())
    async with client:
        with pytest.raises(AjaxError) as info:
            await client.call("profile")
    text = info.value.message
    assert info.value.code == "ERROR_UNEXPECTED_ANSWER"
    assert "HTTP 200" in text
    assert "Error at" in text
    assert SECRET not in text
    assert "abc123" not in text
    assert SECRET not in log.text()


async def test_empty_body_and_json_error_without_code(make_client) -> None:
    answers = iter([httpx.Response(500, content=b""), httpx.Response(418, json={"nope": 1})])
    client, _, _ = make_client(
        HOOK,
        transport=httpx.MockTransport(lambda r: next(answers)),
        v3_methods=(),
    )
    async with client:
        with pytest.raises(AjaxError) as first:
            await client.call("crm.deal.add", {})
        with pytest.raises(AjaxError) as second:
            await client.call("crm.deal.add", {})
    assert first.value.status == 500
    assert "empty body" in first.value.message
    assert (second.value.code, second.value.status) == ("ERR_BAD_REQUEST", 418)


async def test_a_server_echoing_the_url_in_its_error_is_masked(make_client) -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(
            400, json={"error": "ERROR_CORE", "error_description": f"bad call to {request.url}"}
        )

    client, log, _ = make_client(HOOK, transport=httpx.MockTransport(handler), v3_methods=())
    async with client:
        with pytest.raises(AjaxError) as info:
            await client.call("crm.deal.add", {})
    assert info.value.code == "ERROR_CORE"
    assert "bad call to https://portal.example.com/rest/5/wi…78/crm.deal.add" in info.value.message
    assert SECRET not in f"{info.value} {log.text()}"


async def test_calls_after_close_are_a_clear_error(make_client) -> None:
    from b24explorer.core import SdkError

    client, _, _ = make_client(HOOK, v3_methods=())
    await client.aclose()
    with pytest.raises(SdkError) as info:
        await client.call("server.time")
    assert info.value.code == "CLIENT_CLOSED"


async def test_list_of_a_method_that_ignores_the_id_cursor_stops_with_a_clear_error(make_client) -> None:
    rows = [{"ID": str(i)} for i in range(1, 51)]

    def handler(request: httpx.Request) -> httpx.Response:
        body = json.loads(request.content)
        if request.url.path.endswith("/batch"):
            return httpx.Response(
                200,
                json={
                    "result": {
                        "result": {k: rows for k in body["cmd"]},
                        "result_error": [],
                        "result_total": {"p0": 500},
                        "result_next": [],
                        "result_time": [],
                    },
                    "time": {},
                },
            )
        return httpx.Response(200, json={"result": rows, "time": {}})

    client, _, _ = make_client(HOOK, transport=httpx.MockTransport(handler), v3_methods=())
    async with client:
        res = await client.call_list("department.get")
    assert len(res.items) == 50
    assert not res.complete
    assert [e.code for e in res.errors] == ["LIST_CURSOR_STALLED"]
    assert res.incomplete_reason.startswith("LIST_CURSOR_STALLED")
