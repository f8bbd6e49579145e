"""Online events: the sandbox POSTs to a handler bound on loopback, the core listener receives, checks the
application token and masks the auth block; nothing the events path writes or logs carries a token."""

from __future__ import annotations

import asyncio
import json

import httpx
from oauth_helpers import app_client, authorize

from b24explorer.core import LogBus
from b24explorer.core.events import EventPoller, EventsService, ObjectCall
from b24explorer.core.events_listener import EventListener, OnlineEvent, Verdict, parse_php_form, read_event
from b24explorer.core.oauth import OAuthSession
from b24explorer.core.redact import mask_event_payload


async def _wait_for(received: list[OnlineEvent], count: int) -> None:
    for _ in range(200):
        if len(received) >= count:
            return
        await asyncio.sleep(0.05)
    raise AssertionError(f"{count} events expected, {len(received)} arrived")


async def test_the_portal_posts_events_the_listener_checks_and_masks(app_portal) -> None:
    sb = app_portal
    app = sb.portal.oauth.app
    log = LogBus(keep=1000)
    shown: list[OnlineEvent] = []
    creds = await authorize(sb)
    async with EventListener(shown.append, application_token=app.application_token, log=log) as listener, \
            app_client(OAuthSession(creds), log=log) as client:
        service = EventsService(client)
        await service.bind(["ONCRMDEALADD", "ONTASKUPDATE"], offline=False, handler=listener.handler_url)
        deal = (await client.call("crm.deal.add", {"fields": {"TITLE": "online"}})).result
        await client.call("tasks.task.update", {"taskId": 1, "fields": {"TITLE": "t"}})
        await _wait_for(shown, 2)

    deal_event = next(e for e in shown if e.event == "ONCRMDEALADD")
    assert deal_event.verdict is Verdict.ACCEPTED
    assert deal_event.object_id == deal
    assert deal_event.open_call == ObjectCall("crm.deal.get", {"id": deal})
    assert deal_event.payload["data"] == {"FIELDS": {"ID": str(deal)}}
    auth = deal_event.payload["auth"]
    assert auth["domain"] == f"127.0.0.1:{sb.port}"
    assert auth["member_id"] == sb.portal.oauth.member_id
    assert auth["client_endpoint"] == f"{sb.base_url}/rest/"
    assert {"access_token", "refresh_token", "application_token"} <= set(auth)
    assert deal_event.handler_id
    assert deal_event.ts
    task_event = next(e for e in shown if e.event == "ONTASKUPDATE")
    assert task_event.object_id == 1

    # the secret scan: the app token and every token pair the portal sent, nowhere in what the path kept
    sent_tokens = sb.portal.oauth._by_access.keys() | sb.portal.oauth._by_refresh.keys()
    secrets = {app.application_token, *sent_tokens, creds.tokens.access_token, creds.tokens.refresh_token}
    kept = json.dumps([e.to_dict() for e in shown]) + json.dumps([r.to_dict() for r in log.history]) \
        + "\n".join(r.format_line() for r in log.history) + repr(shown)
    assert any(r.code == "EVENT_RECEIVED" for r in log.history)
    for secret in secrets:
        assert secret not in kept


async def test_a_wrong_application_token_is_refused(app_portal) -> None:
    sb = app_portal
    log = LogBus(keep=100)
    shown: list[OnlineEvent] = []
    creds = await authorize(sb)
    async with EventListener(shown.append, application_token="not-the-apps-token-0000", log=log) as listener, \
            app_client(OAuthSession(creds)) as client:
        await EventsService(client).bind(["ONCRMLEADADD"], offline=False, handler=listener.handler_url)
        await client.call("crm.lead.add", {"fields": {"TITLE": "x"}})
        await _wait_for(shown, 1)
        for _ in range(100):
            if sb.portal.events.delivered:
                break
            await asyncio.sleep(0.05)
    assert shown[0].verdict is Verdict.REFUSED
    assert sb.portal.events.delivered == [(listener.handler_url, 403)]
    assert [r.code for r in log.history] == ["EVENT_TOKEN_MISMATCH"]
    assert sb.portal.oauth.app.application_token not in json.dumps(shown[0].to_dict())


async def test_json_and_form_bodies_and_bad_requests() -> None:
    token = "51856fefc120afa4b628cc82d3935cce"
    access = "s6p6eclrvim6da22ft9ch94ekreb52lv"
    shown: list[OnlineEvent] = []
    async with EventListener(shown.append, application_token=token) as listener, httpx.AsyncClient() as http:
        payload = {"event": "ONCRMDEALUPDATE", "data": {"FIELDS": {"ID": "5"}}, "ts": "1735374081",
                   "auth": {"access_token": access, "application_token": token, "domain": "p.example.com"}}
        assert (await http.post(listener.handler_url, json=payload)).status_code == 200
        form = (f"event=ONTASKADD&data[FIELDS_AFTER][ID]=123&ts=1&auth[access_token]={access}"
                f"&auth[application_token]={token}")
        answer = await http.post(listener.handler_url, content=form,
                                 headers={"Content-Type": "application/x-www-form-urlencoded"})
        assert answer.status_code == 200
        assert (await http.post(listener.handler_url, content=b"{not json",
                                headers={"Content-Type": "application/json"})).status_code == 400
        assert (await http.get(listener.handler_url)).status_code == 405
        unsigned = (await http.post(listener.handler_url, json={"event": "ONCRMDEALADD"})).status_code
        assert unsigned == 403
    assert [(e.event, e.object_id, e.verdict) for e in shown] == [
        ("ONCRMDEALUPDATE", 5, Verdict.ACCEPTED), ("ONTASKADD", 123, Verdict.ACCEPTED),
        ("ONCRMDEALADD", None, Verdict.REFUSED)]
    assert shown[0].payload["auth"]["domain"] == "p.example.com"
    assert access not in json.dumps([e.to_dict() for e in shown])
    assert token not in json.dumps([e.to_dict() for e in shown])


def test_php_form_parsing_and_unchecked_verdict() -> None:
    assert parse_php_form("a[b][c]=1&a[b][d]=2&x[]=p&x[]=q&e=") == {
        "a": {"b": {"c": "1", "d": "2"}}, "x": {"0": "p", "1": "q"}, "e": ""}
    event = read_event({"event": "onCrmDealAdd", "data": {"FIELDS": {"ID": "9"}}}, None)
    assert (event.event, event.object_id, event.verdict) == ("ONCRMDEALADD", 9, Verdict.UNCHECKED)
    masked = mask_event_payload({"auth": {"access_token": "abcdefghijkl", "scope": "crm"},
                                 "data": {"echo": "abcdefghijkl"}})
    assert masked == {"auth": {"access_token": "ab…kl", "scope": "crm"}, "data": {"echo": "ab…kl"}}


async def test_onofflineevent_hint_wakes_the_poller(app_portal) -> None:
    sb = app_portal
    creds = await authorize(sb)
    polled: list[int] = []
    async with app_client(OAuthSession(creds)) as client:
        service = EventsService(client)
        poller = EventPoller(service, lambda records: polled.append(len(records)), interval_s=600)
        hints: list[OnlineEvent] = []

        def on_event(event: OnlineEvent) -> None:
            hints.append(event)
            if event.event == "ONOFFLINEEVENT":
                poller.poke()

        async with EventListener(on_event, application_token=sb.portal.oauth.app.application_token) as listener:
            await service.bind(["ONCRMDEALADD"])
            await service.bind(["ONOFFLINEEVENT"], offline=False, handler=listener.handler_url)
            poller.start()
            await asyncio.sleep(0.2)  # the first poll finds an empty queue; the next waits 600 s or a hint
            await client.call("crm.deal.add", {"fields": {"TITLE": "hinted"}})
            await _wait_for(hints, 1)
            for _ in range(100):
                if polled:
                    break
                await asyncio.sleep(0.05)
            await poller.cancel()
    assert hints[0].event == "ONOFFLINEEVENT"
    assert hints[0].verdict is Verdict.ACCEPTED
    assert polled == [1]
