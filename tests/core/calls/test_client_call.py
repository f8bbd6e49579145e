"""B24Client.call against the sandbox over loopback HTTP: envelopes, errors, retries, the non-idempotent rule."""

from __future__ import annotations

import asyncio
import json
import math
import uuid

import pytest

from b24explorer.core import AjaxError, AjaxResult, B24Client, LimitsConfig, SdkError, TimeInfo
from b24explorer.core.redact import REDACTED


async def test_call_returns_the_envelope_typed(make_client, sb) -> None:
    client, _log, _ = make_client(sb.webhook_url)
    async with client:
        res = await client.call("crm.deal.get", {"id": 1})
    assert isinstance(res, AjaxResult)
    assert res.is_success
    assert res.error is None
    assert res.error_messages == []
    assert res.status == 200
    assert res.api == 2
    assert res.method == "crm.deal.get"
    assert res.result["ID"] == "1"
    assert res.data is not None
    assert set(res.data) == {"result", "time"}
    assert isinstance(res.time, TimeInfo)
    assert res.time.start is not None
    assert res.time.operating is not None
    assert json.loads(res.raw) == res.envelope()
    assert uuid.UUID(res.request_id).version == 7
    assert res.elapsed > 0
    assert res.total == 0
    assert res.next is None
    assert not res.is_more
    assert sb.secret not in json.dumps(res.headers)
    assert res.document.lazy  # a lazy view of the body


async def test_total_next_and_is_more_of_a_list_page(make_client, sb) -> None:
    client, _, _ = make_client(sb.webhook_url)
    async with client:
        first = await client.call("crm.deal.list", {"select": ["ID"], "start": 0})
        last = await client.call("crm.deal.list", {"select": ["ID"], "start": 150})
    assert first.total == 200
    assert first.next == 50
    assert first.is_more
    assert len(first.result) == 50
    assert last.total == 200
    assert last.next is None
    assert not last.is_more


async def test_given_request_id_is_kept(make_client, sb) -> None:
    client, log, _ = make_client(sb.webhook_url)
    async with client:
        res = await client.call("server.time", request_id="my-trace-1")
    assert res.request_id == "my-trace-1"
    assert any(r.request_id == "my-trace-1" for r in log.records)


async def test_v3_call_and_v3_validation_error_is_a_soft_failed_result(make_client, sb) -> None:
    client, _, _ = make_client(sb.webhook_url)
    async with client:
        ok = await client.call("tasks.task.get", {"id": 1, "select": ["id", "title"]}, api=3)
        bad = await client.call("tasks.task.get", {}, api=3)
    assert ok.is_success
    assert ok.api == 3
    assert ok.result["item"]["id"] == 1
    assert not bad.is_success
    assert bad.data is None
    assert bad.error.code == "BITRIX_REST_V3_EXCEPTION_VALIDATION_REQUESTVALIDATIONEXCEPTION"
    assert bad.status == 400
    assert bad.error.validation  # the per-field rows are kept
    assert bad.error_messages[0].endswith(bad.error.validation[0]["message"])


async def test_soft_v2_code_comes_back_hard_code_raises(make_client, sb) -> None:
    sb.faults.add("status", method="crm.deal.get", count=1, status=400, code="ERROR_ENTITY_NOT_FOUND")
    client, _, clock = make_client(sb.webhook_url)
    async with client:
        soft = await client.call("crm.deal.get", {"id": 1})
        assert not soft.is_success
        assert soft.error.code == "ERROR_ENTITY_NOT_FOUND"
        assert soft.status == 400
        with pytest.raises(AjaxError) as info:
            await client.call("crm.deal.get", {"id": 999_999})
    assert info.value.status == 400
    assert info.value.description == "Not found"
    assert clock.sleeps == []
    assert sb.counters.requests("crm.deal.get") == 2  # no retry of a 4xx


async def test_wrong_secret_is_invalid_credentials_and_never_echoed(make_client, sb) -> None:
    wrong = sb.webhook_url.replace(sb.secret, "wrongsecret0000000")
    client, log, _ = make_client(wrong)
    async with client:
        with pytest.raises(AjaxError) as info:
            await client.call("server.time")
    err = info.value
    assert (err.code, err.status) == ("INVALID_CREDENTIALS", 401)
    assert "wrongsecret0000000" not in f"{err} {err!r} {err.to_dict()} {log.text()}"


async def test_insufficient_scope_raises(make_client, sb) -> None:
    limited = sb.add_webhook(user_id=1, scopes=["task"])
    client, _, _ = make_client(limited)
    async with client:
        with pytest.raises(AjaxError) as info:
            await client.call("crm.deal.get", {"id": 1})
    assert (info.value.code, info.value.status) == ("insufficient_scope", 403)


async def test_503_is_retried_with_the_sdk_waits_then_succeeds(make_client, sb) -> None:
    sb.faults.add("status", method="crm.deal.get", count=2, status=503, code="QUERY_LIMIT_EXCEEDED")
    client, _log, clock = make_client(sb.webhook_url, limits=LimitsConfig.standard())
    async with client:
        res = await client.call("crm.deal.get", {"id": 1})
    assert res.is_success
    assert clock.sleeps == [pytest.approx(1.5), pytest.approx(2.25)]  # (1000/2+1000)·1.5^attempt ms
    assert sb.counters.requests("crm.deal.get") == 3
    assert client.retries == 2


async def test_exhausted_retries_raise_with_the_real_code(make_client, sb) -> None:
    sb.faults.add("status", method="crm.deal.get", count=3, status=503, code="QUERY_LIMIT_EXCEEDED")
    client, log, clock = make_client(sb.webhook_url, limits=LimitsConfig.standard())
    async with client:
        with pytest.raises(AjaxError) as info:
            await client.call("crm.deal.get", {"id": 1})
    assert (info.value.code, info.value.status) == ("QUERY_LIMIT_EXCEEDED", 503)
    assert info.value.attempts == 3
    assert clock.sleeps == [pytest.approx(1.5), pytest.approx(2.25)]  # the last attempt does not sleep
    assert sb.counters.requests("crm.deal.get") == 3
    assert "HTTP_RETRIES_EXHAUSTED" in log.codes()


async def test_429_operating_limit_waits_at_least_ten_seconds(make_client, sb) -> None:
    sb.faults.add("status", method="crm.deal.list", count=1, status=429, code="OPERATION_TIME_LIMIT")
    client, _, clock = make_client(sb.webhook_url)
    async with client:
        res = await client.call("crm.deal.list", {"select": ["ID"]})
    assert res.is_success
    assert clock.sleeps == [pytest.approx(10.0)]


async def test_bad_gateway_html_is_retried_with_backoff_for_a_read(make_client, sb) -> None:
    sb.faults.add("html", method="crm.deal.get", count=1, status=502)
    client, _, clock = make_client(sb.webhook_url)
    async with client:
        res = await client.call("crm.deal.get", {"id": 1})
    assert res.is_success
    assert len(clock.sleeps) == 1
    assert 0.9 <= clock.sleeps[0] <= 1.1


async def test_bad_gateway_html_is_a_readable_error_without_the_secret(make_client, sb) -> None:
    sb.faults.add("html", method="crm.deal.add", count=1, status=502)
    client, log, clock = make_client(sb.webhook_url)
    async with client:
        with pytest.raises(AjaxError) as info:
            await client.call("crm.deal.add", {"fields": {"TITLE": "x"}})
    err = info.value
    assert err.status == 502
    assert "HTTP 502" in err.message
    assert "Bad Gateway" in err.message
    assert sb.secret not in f"{err} {err!r} {log.text()}"
    assert clock.sleeps == []  # a 5xx on a write is ambiguous: not re-sent


async def test_truncated_json_is_an_unexpected_answer(make_client, sb) -> None:
    sb.faults.add("truncated", method="crm.deal.list", count=1)
    client, log, clock = make_client(sb.webhook_url)
    async with client:
        with pytest.raises(AjaxError) as info:
            await client.call("crm.deal.list", {"select": ["ID", "TITLE"]})
    err = info.value
    assert err.code == "ERROR_UNEXPECTED_ANSWER"
    assert err.status == 200
    assert "not JSON" in err.message
    assert "line 1 column" in err.message
    assert sb.secret not in f"{err} {log.text()}"
    assert clock.sleeps == []


async def test_error_inside_a_200_body_is_returned_not_raised(make_client, sb) -> None:
    sb.faults.add("error_in_200", method="crm.deal.get", count=1, code="INTERNAL_SERVER_ERROR")
    client, _, clock = make_client(sb.webhook_url)
    async with client:
        res = await client.call("crm.deal.get", {"id": 1})
    assert not res.is_success
    assert res.status == 200
    assert res.error.code == "INTERNAL_SERVER_ERROR"
    assert clock.sleeps == []


async def test_redirect_to_another_host_is_not_followed(make_client, sb) -> None:
    sb.faults.add("redirect", method="server.time", count=1)
    client, log, clock = make_client(sb.webhook_url)
    async with client:
        with pytest.raises(AjaxError) as info:
            await client.call("server.time")
    err = info.value
    assert (err.code, err.status) == ("PORTAL_REDIRECT", 302)
    assert "moved-portal.invalid" in err.message
    assert sb.secret not in f"{err} {err!r} {log.text()}"
    assert sb.counters.requests("server.time") == 1
    assert clock.sleeps == []


# --- the non-idempotent rule ---------------------------------------------------------------------------------
async def test_add_hit_by_reset_after_sending_is_performed_once(make_client, sb) -> None:
    sb.faults.add("reset_after", method="crm.deal.add", count=1)
    client, log, clock = make_client(sb.webhook_url)
    async with client:
        with pytest.raises(AjaxError) as info:
            await client.call("crm.deal.add", {"fields": {"TITLE": "once"}})
    assert info.value.code == "NETWORK_ERROR"
    assert info.value.status == 0
    assert info.value.kind == "network_after_send"
    assert sb.counters.writes("crm.deal.add") == 1
    assert sb.counters.requests("crm.deal.add") == 1
    assert clock.sleeps == []
    assert "NOT_RETRIED_AMBIGUOUS" in log.codes()


async def test_add_hit_by_a_timeout_is_performed_once(make_client, sb) -> None:
    sb.faults.add("delay", method="crm.deal.add", count=1, seconds=1.0)
    client, _, clock = make_client(sb.webhook_url, timeout=0.25)
    async with client:
        with pytest.raises(AjaxError) as info:
            await client.call("crm.deal.add", {"fields": {"TITLE": "slow"}})
    assert (info.value.code, info.value.status, info.value.kind) == ("REQUEST_TIMEOUT", 408, "timeout")
    assert sb.counters.writes("crm.deal.add") == 1
    assert sb.counters.requests("crm.deal.add") == 1
    assert clock.sleeps == []


async def test_read_hit_by_reset_or_timeout_is_retried(make_client, sb) -> None:
    sb.faults.add("reset_after", method="crm.deal.get", count=1)
    sb.faults.add("delay", method="crm.deal.list", count=1, seconds=1.0)
    client, _, clock = make_client(sb.webhook_url, timeout=0.25)
    async with client:
        got = await client.call("crm.deal.get", {"id": 1})
        listed = await client.call("crm.deal.list", {"select": ["ID"]})
    assert got.is_success
    assert listed.is_success
    assert sb.counters.requests("crm.deal.get") == 2
    assert sb.counters.requests("crm.deal.list") == 2
    assert len(clock.sleeps) == 2


async def test_add_is_retried_when_nothing_was_sent(make_client) -> None:
    # Nothing listens on this port: the connection fails before the request leaves, so a retry is safe.
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    client, _, clock = make_client(f"http://127.0.0.1:{port}/rest/1/abcdefgh123/")
    async with client:
        with pytest.raises(AjaxError) as info:
            await client.call("crm.deal.add", {"fields": {}})
    assert (info.value.code, info.value.status, info.value.kind) == (
        "NETWORK_ERROR",
        0,
        "network_before_send",
    )
    assert info.value.attempts == 3
    assert len(clock.sleeps) == 2
    # 3 attempts of the add, plus the one-shot look-up of the portal's v3 methods (which fell back)
    assert client.requests_sent == 4
    assert client.v3.source == "builtin"


# --- bad input: nothing is sent ------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "params",
    [{"when": object()}, {"ids": {1, 2}}, {"x": float("nan")}, "id=1", 42],
    ids=["object", "set", "nan", "string", "int"],
)
async def test_params_that_are_not_json_fail_before_any_request(make_client, sb, params) -> None:
    client, _, _ = make_client(sb.webhook_url)
    async with client:
        with pytest.raises(AjaxError) as info:
            await client.call("crm.deal.add", params)
    assert info.value.code == "JSSDK_INVALID_PARAMS"
    assert info.value.status == 400
    assert sb.counters.requests() == 0
    assert client.requests_sent == 0


@pytest.mark.parametrize("method", ["", "crm deal", "../batch", "crm.deal.list?x=1", "a/b"])
async def test_bad_method_names_fail_before_any_request(make_client, sb, method) -> None:
    client, _, _ = make_client(sb.webhook_url)
    async with client:
        with pytest.raises(SdkError):
            await client.call(method)
        with pytest.raises(SdkError):
            await client.call("server.time", api=4)
    assert sb.counters.requests() == 0


async def test_error_request_info_is_redacted_and_has_no_url(make_client, sb) -> None:
    client, _, _ = make_client(sb.webhook_url)
    async with client:
        with pytest.raises(AjaxError) as info:
            await client.call(
                "crm.deal.get", {"id": 999_999, "auth": "tok-123", "nested": {"password": "pw"}}
            )
    info_dict = info.value.request_info
    assert info_dict["method"] == "crm.deal.get"
    assert info_dict["request_id"]
    assert info_dict["params"]["auth"] == REDACTED
    assert info_dict["params"]["nested"]["password"] == REDACTED
    assert "url" not in info_dict
    assert sb.base_url not in json.dumps(info.value.to_dict())


async def test_concurrent_calls_share_one_client(make_client, sb) -> None:
    client, _, _ = make_client(sb.webhook_url)
    async with client:
        results = await asyncio.gather(*(client.call("crm.deal.get", {"id": i}) for i in range(1, 21)))
    assert [r.result["ID"] for r in results] == [str(i) for i in range(1, 21)]


async def test_no_secret_in_any_log_record(make_client, sb) -> None:
    sb.faults.add("status", method="crm.deal.get", count=1, status=503, code="QUERY_LIMIT_EXCEEDED")
    client, log, _ = make_client(sb.webhook_url)
    async with client:
        await client.call("crm.deal.get", {"id": 1})
        await client.batch({"a": ["crm.deal.get", {"id": 1}], "b": ["crm.deal.list", {"select": ["ID"]}]})
        await client.call_list("crm.deal.list", {"select": ["ID"]})
    assert log.records
    assert sb.secret not in log.text()
    assert sb.secret not in repr(client)


def test_timeout_default_and_user_agent() -> None:
    client = B24Client("https://portal.bitrix24.com/rest/1/abcdefgh123/")
    assert client.timeout == 30.0
    assert client._http.headers["user-agent"].startswith("b24explorer/")
    assert client._http.follow_redirects is False
    asyncio.run(client.aclose())
    assert math.isclose(B24Client("http://127.0.0.1:1/rest/1/abcdefgh123/", timeout=5).timeout, 5)


async def test_v3_add_hit_by_reset_after_sending_is_performed_once(make_client, sb) -> None:
    sb.faults.add("reset_after", method="tasks.task.add", count=1)
    client, _, clock = make_client(sb.webhook_url)
    async with client:
        res = await client.call(
            "tasks.task.add", {"fields": {"title": "once", "creatorId": 1, "responsibleId": 1}}, api=3
        )
    # the re-send carried the same Idempotency-Key: the portal answered it with the stored answer
    assert res.is_success
    assert res.replayed
    assert sb.counters.writes("tasks.task.add") == 1
    assert sb.counters.requests("tasks.task.add") == 2
    assert len(clock.sleeps) == 1


async def test_clients_share_one_tls_context(sb) -> None:
    from b24explorer.core.client import B24Client, shared_tls_context

    async with B24Client(sb.webhook_url) as first, B24Client(sb.webhook_url) as second:
        assert first._http._transport._pool._ssl_context is shared_tls_context()
        assert second._http._transport._pool._ssl_context is shared_tls_context()
