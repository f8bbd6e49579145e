"""LogBus delivery and redaction (SDK §6.3)."""

from __future__ import annotations

import logging

from b24explorer.core import Level, LogBus
from b24explorer.core.redact import REDACTED, redact, redact_text, truncate


def test_levels_are_the_sdk_ones() -> None:
    assert [lv.name for lv in Level] == [
        "DEBUG",
        "INFO",
        "NOTICE",
        "WARNING",
        "ERROR",
        "CRITICAL",
        "ALERT",
        "EMERGENCY",
    ]
    assert Level.coerce("warning") is Level.WARNING
    assert Level.coerce(4) is Level.ERROR


def test_subscribe_unsubscribe_and_fields() -> None:
    bus = LogBus()
    got = []
    off = bus.subscribe(got.append)
    record = bus.emit("notice", "SOME_CODE", "hello", method="m.x", request_id="r1", context={"a": 1})
    off()
    bus.info("LATER", "not delivered")
    assert got == [record]
    assert (record.level, record.code, record.method, record.request_id) == (
        Level.NOTICE,
        "SOME_CODE",
        "m.x",
        "r1",
    )
    assert record.context == {"a": 1}
    assert record.timestamp.tzinfo is not None
    assert record.to_dict()["level"] == "NOTICE"


def test_a_failing_subscriber_never_reaches_the_caller(caplog) -> None:
    bus = LogBus()
    got = []

    def broken(_record) -> None:
        raise RuntimeError("boom")

    bus.subscribe(broken)
    bus.subscribe(got.append)
    with caplog.at_level(logging.ERROR):
        bus.warning("X", "still delivered")
        bus.emit("no-such-level", "Y", "bad level is swallowed")
    assert [r.code for r in got] == ["X"]


def test_context_is_redacted_and_truncated_and_secrets_masked() -> None:
    bus = LogBus()
    bus.add_secret("s3cr3tTokenValue99")
    got = []
    bus.subscribe(got.append)
    bus.info(
        "C",
        "url https://p.example/rest/1/s3cr3tTokenValue99/x",
        context={
            "params": {"auth": "a", "fields": {"PASSWORD": "p"}},
            "long": "y" * 400,
            "cmd": "crm.deal.add?fields%5BTITLE%5D=a&auth=tokval&data[access_token]=zzval",
        },
    )
    rec = got[0]
    assert "s3cr3tTokenValue99" not in rec.message
    assert rec.context["params"]["auth"] == REDACTED
    assert rec.context["params"]["fields"]["PASSWORD"] == REDACTED
    assert rec.context["long"] == "y" * 100 + "..."
    assert "tokval" not in rec.context["cmd"]
    assert "zzval" not in rec.context["cmd"]
    assert "fields%5BTITLE%5D=a" in rec.context["cmd"]


def test_redact_walks_two_levels_and_masks_query_pairs() -> None:
    value = {
        "token": "t",
        "a": {"secret": "s", "b": {"key": "k", "c": {"password": "deep"}}},
        "list": [{"sessid": 1}],
    }
    out = redact(value)
    assert out["token"] == REDACTED
    assert out["a"]["secret"] == REDACTED
    assert out["a"]["b"]["key"] == REDACTED
    assert out["list"][0]["sessid"] == REDACTED
    assert value["token"] == "t"  # a copy
    assert redact_text("x?a=1&client_secret=abc&b=2") == f"x?a=1&client_secret={REDACTED}&b=2"
    assert redact_text("see /rest/api/12/abcdefgh1234/m") == "see /rest/api/12/ab…34/m"
    assert truncate("z" * 300) == "z" * 300
    assert truncate("z" * 301).endswith("...")


async def test_a_big_upload_is_logged_as_the_start_of_its_body(make_client, sb) -> None:
    client, log, _ = make_client(sb.webhook_url, v3_methods=())
    blob = "QUJD" * 50_000  # 200 kB of base64
    async with client:
        await client.call("crm.deal.add", {"auth": "tokval", "fields": {"TITLE": "big", "COMMENTS": blob}})
    started = log.with_code("HTTP_REQUEST_STARTING")[0]
    logged = started.context["params"]
    assert isinstance(logged, str)
    assert logged.endswith("...")
    assert len(logged) < 200
    assert "tokval" not in logged


async def test_credentials_nested_deep_in_params_are_masked_in_log_records(make_client, sb) -> None:
    client, log, _ = make_client(sb.webhook_url, v3_methods=())
    params = {
        "fields": {"UF_CRM_LOGIN": {"password": "pw-deep-7f3a"}},
        "list": [{"token": "tok-deep-9c1b"}, [{"secret": "sec-deep-2d4e"}]],
    }
    async with client:
        await client.call("crm.deal.add", params)
    assert log.records
    dumped = repr([(r.message, r.context) for r in log.records])
    for secret in ("pw-deep-7f3a", "tok-deep-9c1b", "sec-deep-2d4e"):
        assert secret not in dumped
    started = log.with_code("HTTP_REQUEST_STARTING")[0].context["params"]
    assert started["fields"]["UF_CRM_LOGIN"]["password"] == REDACTED
    assert started["list"][0]["token"] == REDACTED
    assert started["list"][1][0]["secret"] == REDACTED
