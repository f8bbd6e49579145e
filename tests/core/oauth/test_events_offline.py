"""Offline events over an app connection against the sandbox: bind, writes, the queue's last-change records,
keep vs take, reserve/clear/error, unbind, the feature check, the poller and the open-object map."""

from __future__ import annotations

import asyncio
import itertools

import pytest
from oauth_helpers import app_client, authorize

from b24explorer.core import AjaxError
from b24explorer.core.events import (
    EventPoller,
    EventsService,
    ObjectCall,
    OfflineEvent,
    object_call,
)
from b24explorer.core.oauth import OAuthSession


@pytest.fixture
async def events(app_portal):
    creds = await authorize(app_portal)
    async with app_client(OAuthSession(creds)) as client:
        yield EventsService(client), client


async def test_bind_a_write_and_take_shows_the_new_deal(events) -> None:
    service, client = events
    outcomes = await service.bind(["ONCRMDEALADD"])
    assert [(o.event, o.bound) for o in outcomes] == [("ONCRMDEALADD", True)]
    assert [(b.event, b.offline) for b in await service.bindings()] == [("ONCRMDEALADD", True)]
    again = await service.bind(["onCrmDealAdd"])
    assert again[0].bound is False  # bound already: reported, not raised

    deal_id = (await client.call("crm.deal.add", {"fields": {"TITLE": "Fires an event"}})).result
    await client.call("crm.contact.add", {"fields": {"NAME": "Not bound"}})  # no binding, no record

    pull = await service.pull()
    assert [(r.event, r.object_id) for r in pull.records] == [("ONCRMDEALADD", deal_id)]
    record = pull.records[0]
    assert record.message_id
    assert record.record_id > 0
    assert record.time is not None
    assert pull.cleared
    assert (await service.pull()).records == []  # taken means gone


async def test_one_record_per_object_with_the_last_change(events, app_portal) -> None:
    service, client = events
    await service.bind(["ONCRMDEALUPDATE", "ONCRMDEALADD"])
    first = (await client.call("crm.deal.add", {"fields": {"TITLE": "a"}})).result
    second = (await client.call("crm.deal.add", {"fields": {"TITLE": "b"}})).result
    clock = app_portal.portal.clock
    for title in ("x", "y", "z"):
        await client.call("crm.deal.update", {"id": first, "fields": {"TITLE": title}})
    listed = (await service.pull(keep=True)).records
    updates = [r for r in listed if r.event == "ONCRMDEALUPDATE"]
    assert [r.object_id for r in updates] == [first]  # three updates, one record
    assert {(r.event, r.object_id) for r in listed} == {("ONCRMDEALADD", first), ("ONCRMDEALADD", second),
                                                        ("ONCRMDEALUPDATE", first)}
    # newest first: the update record carries the time of the last change
    assert listed[0].event == "ONCRMDEALUPDATE"
    assert all(a.time >= b.time for a, b in itertools.pairwise(listed))
    assert updates[0].time.timestamp() <= clock() + 1

    keep_again = (await service.pull(keep=True)).records
    assert [r.key for r in keep_again] == [r.key for r in listed]  # list reads without removing


async def test_reserve_then_clear_and_error(events) -> None:
    service, client = events
    await service.bind(["ONCRMLEADADD"])
    ids = [(await client.call("crm.lead.add", {"fields": {"TITLE": f"L{i}"}})).result for i in range(3)]

    reserved = await service.reserve()
    assert reserved.process_id
    assert not reserved.cleared
    assert sorted(r.object_id for r in reserved.records) == sorted(ids)
    listed = (await service.pull(keep=True)).records
    assert {r.process_id for r in listed} == {reserved.process_id}  # still queued, marked with the process
    assert (await service.reserve()).records == []  # reserved records are not handed to another process

    by_object = {r.object_id: r for r in reserved.records}
    await service.mark_error(reserved.process_id, [by_object[ids[0]].message_id])
    await service.clear(reserved.process_id, message_ids=[by_object[ids[1]].message_id])
    left = {r.object_id: r for r in (await service.pull(keep=True)).records}
    assert set(left) == {ids[0], ids[2]}
    assert left[ids[0]].error
    assert not left[ids[0]].process_id
    assert left[ids[2]].process_id == reserved.process_id

    await service.clear(reserved.process_id)  # without ids: everything of the process
    assert [r.object_id for r in (await service.pull(keep=True)).records] == [ids[0]]
    errors = await service.client.call("event.offline.get", {"error": 1, "clear": 1})
    assert [e["EVENT_NAME"] for e in errors.result["events"]] == ["ONCRMLEADADD"]
    assert (await service.pull(keep=True)).records == []


async def test_a_change_after_reserving_starts_a_new_record(events) -> None:
    service, client = events
    await service.bind(["ONCRMDEALUPDATE"])
    await client.call("crm.deal.update", {"id": 1, "fields": {"TITLE": "one"}})
    reserved = await service.reserve()
    await client.call("crm.deal.update", {"id": 1, "fields": {"TITLE": "two"}})
    listed = (await service.pull(keep=True)).records
    assert len(listed) == 2  # the reserved one and the new change
    assert {r.process_id for r in listed} == {reserved.process_id, ""}


async def test_clear_shown_clears_exactly_what_a_keep_pull_showed(events) -> None:
    service, client = events
    await service.bind(["ONCRMCOMPANYADD"])
    for i in range(2):
        await client.call("crm.company.add", {"fields": {"TITLE": f"C{i}"}})
    shown = (await service.pull(keep=True)).records
    late = (await client.call("crm.company.add", {"fields": {"TITLE": "late"}})).result
    assert await service.clear_shown(shown) == 2
    assert [r.object_id for r in (await service.pull(keep=True)).records] == [late]


async def test_tasks_and_crm_item_and_v3_writes_fire_too(events) -> None:
    service, client = events
    await service.bind(["ONTASKADD", "ONTASKUPDATE", "ONTASKDELETE", "ONCRMCONTACTUPDATE"])
    task = (await client.call("tasks.task.add", {"fields": {"TITLE": "T"}})).result["task"]["id"]
    v3_task = (await client.call("tasks.task.add", {"fields": {"title": "T3", "creatorId": 1, "responsibleId": 1}}, api=3)).result["item"]["id"]
    await client.call("tasks.task.update", {"taskId": task, "fields": {"TITLE": "T2"}})
    await client.call("tasks.task.delete", {"id": v3_task}, api=3)
    await client.call("crm.item.update", {"entityTypeId": 3, "id": 2, "fields": {"name": "N"}})
    got = {(r.event, r.object_id) for r in (await service.pull()).records}
    assert got == {("ONTASKADD", int(task)), ("ONTASKADD", int(v3_task)), ("ONTASKUPDATE", int(task)),
                   ("ONTASKDELETE", int(v3_task)), ("ONCRMCONTACTUPDATE", 2)}


async def test_unbind_stops_the_queue(events) -> None:
    service, client = events
    await service.bind(["ONCRMDEALDELETE"])
    assert await service.unbind(["ONCRMDEALDELETE"]) == {"ONCRMDEALDELETE": 1}
    assert await service.unbind(["ONCRMDEALDELETE"]) == {"ONCRMDEALDELETE": 0}
    await client.call("crm.deal.delete", {"id": 3})
    assert (await service.pull(keep=True)).records == []
    assert await service.bindings() == []


async def test_feature_check_and_the_note_where_the_plan_lacks_it(events, app_portal) -> None:
    service, _ = events
    assert (await service.feature_check()).available
    app_portal.portal.events.offline_extended = False
    check = await service.feature_check()
    assert not check.available
    assert "rest_offline_extended" in check.note
    assert "offline-events.md" in check.note


async def test_a_webhook_gets_the_documented_app_context_error(app_portal) -> None:
    from b24explorer.core import B24Client, LimitsConfig

    async with B24Client(app_portal.webhook_url, limits=LimitsConfig.unlimited()) as client:
        service = EventsService(client)
        for call in (service.pull(), service.pull(keep=True), service.bind(["ONCRMDEALADD"])):
            with pytest.raises(AjaxError) as caught:
                await call
            assert caught.value.code == "WRONG_AUTH_TYPE"
            assert caught.value.status == 403


async def test_online_handlers_off_loopback_are_bound_but_never_called(events, app_portal) -> None:
    service, client = events
    await service.bind(["ONCRMDEALADD"], offline=False, handler="https://example.com/handler")
    assert [(b.handler, b.offline) for b in await service.bindings()] == [("https://example.com/handler", False)]
    await client.call("crm.deal.add", {"fields": {"TITLE": "stays here"}})
    assert app_portal.portal.events.refused == ["https://example.com/handler"]
    assert app_portal.portal.events.delivered == []


async def test_poller_hands_on_new_records_once_and_cancels(events) -> None:
    service, client = events
    await service.bind(["ONCRMDEALADD"])
    seen: list[list[OfflineEvent]] = []
    arrived = asyncio.Event()

    def on_records(records: list[OfflineEvent]) -> None:
        seen.append(records)
        arrived.set()

    poller = EventPoller(service, on_records, interval_s=1, keep=True)
    poller.start()
    deal = (await client.call("crm.deal.add", {"fields": {"TITLE": "polled"}})).result
    poller.poke()
    await asyncio.wait_for(arrived.wait(), 10)
    polls = poller.polls
    poller.poke()
    for _ in range(50):
        if poller.polls > polls:
            break
        await asyncio.sleep(0.05)
    await poller.cancel()
    assert not poller.running
    assert [[(r.event, r.object_id) for r in batch] for batch in seen] == [[("ONCRMDEALADD", deal)]]
    assert poller.polls > polls  # it polled again and handed on nothing new


def test_object_call_map() -> None:
    assert object_call("ONCRMDEALUPDATE", 5) == ObjectCall("crm.deal.get", {"id": 5})
    assert object_call("onCrmContactAdd", 2) == ObjectCall("crm.contact.get", {"id": 2})
    assert object_call("ONTASKUPDATE", 7) == ObjectCall("tasks.task.get", {"taskId": 7})
    assert object_call("ONCRMDEALDELETE", 5) is None  # the object is gone
    assert object_call("ONCRMDEALADD", None) is None
    assert object_call("ONCRMDEALUSERFIELDADD", 5) is None
