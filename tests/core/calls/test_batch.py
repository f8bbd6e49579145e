"""B24Client.batch / batch_by_chunk against the sandbox: shapes, references, per-row errors, limits, v3."""

from __future__ import annotations

import pytest

from b24explorer.core import AjaxError, BatchResult, SdkError
from b24explorer.core.encoding import batch_command, php_query


async def test_labelled_map_with_a_result_reference(make_client, sb) -> None:
    client, _, _ = make_client(sb.webhook_url)
    async with client:
        res = await client.batch(
            {
                "first": [
                    "crm.deal.list",
                    {"select": ["ID", "TITLE"], "order": {"ID": "ASC"}, "filter": {">ID": 4}},
                ],
                "same": ["crm.deal.get", {"id": "$result[first][0][ID]"}],
            }
        )
    assert isinstance(res, BatchResult)
    assert res.is_success
    assert res.labelled
    assert [row.key for row in res] == ["first", "same"]
    assert res["first"].result[0]["ID"] == "5"
    assert res["same"].result["ID"] == "5"  # the server substituted the reference
    plain = await _plain_total(make_client, sb, {">ID": 4})
    assert res["first"].total == plain
    assert res["first"].next == 50
    assert res["same"].time is not None
    assert res.data == {"first": res["first"].result, "same": res["same"].result}
    assert sb.counters.requests("batch") == 1


async def test_list_and_tuple_shapes_and_dict_rows(make_client, sb) -> None:
    client, _, _ = make_client(sb.webhook_url)
    async with client:
        as_list = await client.batch(
            [["crm.deal.get", {"id": 1}], ("crm.deal.get", {"id": 2}), ["server.time"]]
        )
        as_tuple = await client.batch((("crm.deal.get", {"id": 3}),))
        as_rows = await client.batch([{"method": "crm.deal.get", "params": {"id": 4}, "as": "four"}])
    assert not as_list.labelled
    assert [row.key for row in as_list] == [0, 1, 2]
    assert [r["ID"] for r in as_list.data[:2]] == ["1", "2"]
    assert as_tuple.data[0]["ID"] == "3"
    assert as_rows.labelled
    assert as_rows["four"].result["ID"] == "4"


async def test_per_row_errors_without_halt(make_client, sb) -> None:
    client, _, _ = make_client(sb.webhook_url)
    async with client:
        res = await client.batch(
            [["crm.deal.get", {"id": 1}], ["crm.deal.get", {"id": 999_999}], ["crm.deal.get", {"id": 2}]],
            halt=False,
        )
    assert not res.is_success
    assert list(res.errors) == ["1"]  # keyed by position, as the SDK since 2.0
    assert res[1].error.message == "Not found"
    assert not res[1].is_success
    assert res[0].is_success
    assert res[2].is_success
    assert [r["ID"] for r in res.data] == ["1", "2"]  # failed rows dropped from data, rows keep them


async def test_halt_stops_at_the_first_error(make_client, sb) -> None:
    client, _, _ = make_client(sb.webhook_url)
    async with client:
        res = await client.batch(
            {
                "a": ["crm.deal.get", {"id": 1}],
                "b": ["crm.deal.get", {"id": 999_999}],
                "c": ["crm.deal.get", {"id": 2}],
            },
            halt=True,
        )
    assert set(res.errors) == {"b"}
    assert res["a"].is_success
    assert not res["c"].executed
    assert res["c"].result is None


@pytest.mark.parametrize(("count", "code"), [(0, "JSSDK_BATCH_EMPTY"), (51, "JSSDK_BATCH_TOO_LARGE")])
async def test_empty_and_oversized_batches_fail_before_any_request(make_client, sb, count, code) -> None:
    client, _, _ = make_client(sb.webhook_url)
    async with client:
        with pytest.raises(AjaxError) as info:
            await client.batch([["server.time"]] * count)
        with pytest.raises(AjaxError):
            await client.batch({f"c{i}": ["server.time"] for i in range(count)}, api=3)
    assert info.value.code == code
    assert info.value.status == 400
    if count:
        assert info.value.message == "Batch too large: 51 commands (max: 50)"
    assert sb.counters.requests() == 0


async def test_bad_rows_and_params_fail_before_any_request(make_client, sb) -> None:
    client, _, _ = make_client(sb.webhook_url)
    async with client:
        with pytest.raises(SdkError):
            await client.batch([[1, 2]])
        with pytest.raises(SdkError):
            await client.batch("crm.deal.get")
        with pytest.raises(AjaxError) as info:
            await client.batch({"a": ["crm.deal.add", {"fields": {"x": object()}}]})
    assert info.value.code == "JSSDK_INVALID_PARAMS"
    assert sb.counters.requests() == 0


async def test_v3_batch_array_form(make_client, sb) -> None:
    client, _, _ = make_client(sb.webhook_url)
    async with client:
        res = await client.batch(
            {
                "one": ["tasks.task.get", {"id": 1, "select": ["id"]}],
                "two": ["tasks.task.get", {"id": 2, "select": ["id"]}],
            },
            api=3,
        )
    assert res.is_success
    assert res.api == 3
    assert res["one"].result["item"]["id"] == 1
    assert res["two"].result["item"]["id"] == 2


async def test_batch_by_chunk_any_count(make_client, sb) -> None:
    client, _, _ = make_client(sb.webhook_url)
    async with client:
        res = await client.batch_by_chunk([["crm.deal.get", {"id": i}] for i in range(1, 121)])
    assert len(res.rows) == 120
    assert res.is_success
    assert [row.key for row in res.rows] == list(range(120))
    assert [r["ID"] for r in res.data] == [str(i) for i in range(1, 121)]
    assert sb.counters.requests("batch") == 3
    assert len(res.responses) == 3


async def test_batch_by_chunk_keeps_global_error_positions(make_client, sb) -> None:
    client, _, _ = make_client(sb.webhook_url)
    calls = [["crm.deal.get", {"id": i}] for i in range(1, 61)]
    calls[55] = ["crm.deal.get", {"id": 999_999}]
    async with client:
        res = await client.batch_by_chunk(calls, halt=False)
    assert list(res.errors) == ["55"]
    assert len(res.data) == 59


async def test_batch_hit_by_503_is_retried(make_client, sb) -> None:
    sb.faults.add("status", method="batch", count=1, status=503, code="QUERY_LIMIT_EXCEEDED")
    client, _, clock = make_client(sb.webhook_url)
    async with client:
        res = await client.batch([["crm.deal.get", {"id": 1}]])
    assert res.is_success
    assert clock.sleeps == [pytest.approx(1.5)]


async def _plain_total(make_client, sb, flt) -> int:
    client, _, _ = make_client(sb.webhook_url)
    async with client:
        return (await client.call("crm.deal.list", {"filter": flt, "select": ["ID"]})).total


def test_php_style_cmd_encoding() -> None:
    assert batch_command("server.time", None) == "server.time?"
    assert php_query({"filter": {">ID": 0}, "select": ["ID", "TITLE"]}) == (
        "filter%5B%3EID%5D=0&select%5B0%5D=ID&select%5B1%5D=TITLE"
    )
    assert php_query({"a": None, "b": True, "c": False, "d": 1.0, "e": "x y&z=1", "f": [], "g": {}}) == (
        "a=&b=true&c=false&d=1&e=x%20y%26z%3D1"
    )
    assert php_query({"id": "$result[a][0][ID]"}) == "id=$result[a][0][ID]"
    assert php_query({"fields": {"TITLE": "Ünï"}}) == "fields%5BTITLE%5D=%C3%9Cn%C3%AF"
