"""Batch answers read the way a portal's PHP writes them: labels "0", "1", … come back as JSON arrays."""

from __future__ import annotations


async def test_labels_0_1_in_a_map_are_read_from_arrays(make_client, sb) -> None:
    client, _, _ = make_client(sb.webhook_url, v3_methods=())
    async with client:
        res = await client.batch({"0": ["crm.deal.get", {"id": 1}], "1": ["crm.deal.get", {"id": 2}]})
    assert isinstance(res.response.result["result"], list)  # the wire shape this is about
    assert res.response.result["result_error"] == []
    assert [row.executed for row in res.rows] == [True, True]
    assert [row.result["ID"] for row in res.rows] == ["1", "2"]
    assert res.is_success
    assert res.rows[1].time is not None


async def test_an_error_among_integer_labels_is_reported_on_its_row(make_client, sb) -> None:
    client, _, _ = make_client(sb.webhook_url, v3_methods=())
    async with client:
        res = await client.batch(
            {"0": ["crm.deal.get", {"id": 1}], "1": ["crm.deal.get", {"id": 987654}], "2": ["crm.deal.get", {"id": 2}]},
            halt=False,
        )
    assert res.rows[0].result["ID"] == "1"
    assert res.rows[1].error is not None
    assert res.rows[2].result["ID"] == "2"
    assert set(res.errors) == {"1"}


async def test_a_label_with_a_leading_zero_is_not_an_array_position(make_client, sb) -> None:
    client, _, _ = make_client(sb.webhook_url, v3_methods=())
    async with client:
        res = await client.batch({"0": ["crm.deal.get", {"id": 1}], "01": ["crm.deal.get", {"id": 2}]})
    assert [row.result["ID"] for row in res.rows] == ["1", "2"]
