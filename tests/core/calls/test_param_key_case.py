"""Parameter keys that differ only in case get a WARNING naming both: the portal drops one of them."""

from __future__ import annotations

from b24explorer.core import Level
from b24explorer.core.client import PARAM_KEY_CASE_CODE


async def test_a_call_with_filter_and_FILTER_warns_naming_both(make_client, sb) -> None:
    client, log, _ = make_client(sb.webhook_url, v3_methods=())
    async with client:
        res = await client.call("crm.deal.list", {"FILTER": {"ID": 1}, "filter": {"ID": 2}, "select": ["ID"]})
        await client.call("crm.deal.list", {"filter": {"ID": 2}})
    assert res.is_success
    warnings = log.with_code(PARAM_KEY_CASE_CODE)
    assert len(warnings) == 1
    assert warnings[0].level == Level.WARNING
    assert "`FILTER`" in warnings[0].message
    assert "`filter`" in warnings[0].message
    assert warnings[0].context["keys"] == ["FILTER", "filter"]


async def test_batch_commands_and_list_all_are_checked_too(make_client, sb) -> None:
    client, log, _ = make_client(sb.webhook_url, v3_methods=())
    async with client:
        await client.batch({"a": ["user.get", {"FILTER": {"ACTIVE": True}, "filter": {"ID": 1}}]})
        await client.call_list("crm.deal.list", {"SELECT": ["ID"], "select": ["ID"]})
    assert [r.context["keys"] for r in log.with_code(PARAM_KEY_CASE_CODE)] == [
        ["FILTER", "filter"],
        ["SELECT", "select"],
    ]
