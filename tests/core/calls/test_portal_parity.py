"""The call layer against a portal's own behaviour: missing operating time, v3 errors by category."""

from __future__ import annotations

import pytest

from b24explorer.core import AjaxError

P = "BITRIX_REST_V3_EXCEPTION_"


async def test_a_portal_without_operating_time_breaks_nothing(make_client, make_sandbox) -> None:
    sb = make_sandbox(deals=120, operating_time=False)
    client, _, clock = make_client(sb.webhook_url, v3_methods=())
    async with client:
        one = await client.call("crm.deal.get", {"id": 1})
        batch = await client.batch([["crm.deal.get", {"id": 2}], ["crm.deal.list", {}]])
        listed = await client.call_list("crm.deal.list", {"select": ["ID"]})
        stats = client.stats()
    assert one.is_success
    assert one.time is not None
    assert one.time.operating is None
    assert batch.is_success
    assert listed.complete
    assert len(listed.items) == 120
    assert stats["v2"]["operating_stats"] == {}
    assert clock.sleeps == []


async def test_v3_client_errors_are_failed_results_whatever_their_code(make_client, sb) -> None:
    scoped = sb.add_webhook(scopes=["crm"])
    client, _, _ = make_client(sb.webhook_url, v3_methods=())
    limited, _, _ = make_client(scoped, v3_methods=())
    async with client, limited:
        order = await client.call("tasks.task.list", {"order": {"id": "SIDEWAYS"}}, api=3)
        scope = await limited.call("tasks.task.get", {"id": 1}, api=3)
        missing = await client.call("no.such.method", {}, api=3)
    assert (order.is_success, order.status, order.error.code) == (False, 400, P + "INVALIDORDEREXCEPTION")
    assert (scope.is_success, scope.status, scope.error.code) == (False, 403, P + "INSUFFICIENTSCOPEEXCEPTION")
    assert (missing.is_success, missing.status, missing.error.code) == (False, 404, P + "METHODNOTFOUNDEXCEPTION")


async def test_v3_hard_statuses_and_hard_codes_still_raise(make_client, sb) -> None:
    wrong = sb.webhook_url.replace(sb.secret, "0" * len(sb.secret))
    client, _, _ = make_client(wrong, v3_methods=())
    async with client:
        with pytest.raises(AjaxError) as info:
            await client.call("tasks.task.list", {}, api=3)
    assert info.value.status == 401
    sb.faults.add("status", method="tasks.task.get", count=1, status=403, code="ACCESS_DENIED")
    client, _, _ = make_client(sb.webhook_url, v3_methods=())
    async with client:
        with pytest.raises(AjaxError) as denied:
            await client.call("tasks.task.get", {"id": 1}, api=3)
    assert denied.value.code == "ACCESS_DENIED"  # a hard code stays hard in v3 too
