"""The Events panel on the sandbox: the webhook note, the feature check, bind, a write, the queue's records as they
arrive (interval and ONOFFLINEEVENT hint), open the object, clear what was shown, unbind, and the online listener
with its `auth` block masked."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from b24explorer.core import B24Client, LimitsConfig, LogBus
from b24explorer.core.events import EventsService, ObjectCall
from b24explorer.core.oauth import OAuthApp, OAuthCredentials, OAuthSession, TokenSet
from b24explorer.sandbox import Sandbox
from b24explorer.ui.events_panel import WEBHOOK_NOTE, EventsPanel
from b24explorer.ui.qt import QDockWidget


class AppHost:
    """The panel's host for an app connection of the sandbox (the window is this host in the app)."""

    connection_id = "app-1"

    def __init__(self, client: B24Client) -> None:
        self._client = client

    async def client(self) -> B24Client:
        return self._client

    def new_outcome(self, *args: Any, **kw: Any) -> Any:
        raise AssertionError("the panel records nothing itself")

    def request_done(self, outcome: Any) -> None:
        raise AssertionError("the panel records nothing itself")


def app_credentials(sb: Sandbox) -> OAuthCredentials:
    """A token pair the portal issued for its registered app (as an event's `auth` block carries)."""
    app = sb.portal.oauth.app
    host = sb.base_url.split("://", 1)[1]
    tokens = TokenSet.from_answer(sb.portal.oauth.event_auth(app, 1, host))
    return OAuthCredentials(sb.base_url, OAuthApp(app.client_id, app.client_secret, f"{sb.base_url}/oauth/token/"),
                            tokens)


@pytest.fixture
def app_portal(make_sandbox: Any) -> Sandbox:
    return make_sandbox(deals=20)


@pytest.fixture
def panel_on_app(qtbot: Any, qloop: asyncio.AbstractEventLoop, app_portal: Sandbox, until: Any) -> Any:
    credentials = app_credentials(app_portal)
    log = LogBus(keep=1000)
    client = B24Client(OAuthSession(credentials), limits=LimitsConfig.unlimited(), log=log)
    opened: list[ObjectCall] = []

    async def build() -> EventsPanel:  # inside the running loop, as the window builds it after its first paint
        built = EventsPanel(AppHost(client), is_app=lambda _id: True, open_call=opened.append, log=log)
        qtbot.addWidget(built)
        await asyncio.sleep(0.2)
        assert "Checking" in built.note.text()  # hidden: nothing is sent yet
        built.show()
        await until(lambda: "Checking" not in built.note.text(), what="the feature check")
        return built

    panel = qloop.run_until_complete(build())
    yield panel, client, opened, log, credentials
    qloop.run_until_complete(panel.aclose())
    qloop.run_until_complete(client.aclose())


def test_a_webhook_connection_gets_the_note_and_no_controls(make_window: Any, sb: Sandbox) -> None:
    ctx = make_window(sandbox=sb)
    panel = ctx.power.events
    assert panel.note.text() == WEBHOOK_NOTE
    assert not panel.bind_button.isEnabled()
    assert not panel.watch_button.isEnabled()


def test_an_app_connection_in_the_window_opens_the_object_in_the_editor(make_window: Any, app_portal: Sandbox,
                                                                        arun: Any, until: Any) -> None:
    ctx = make_window(sandbox=app_portal)
    window, panel = ctx.window, ctx.power.events
    assert panel.note.text() == WEBHOOK_NOTE  # the sandbox's webhook connection first

    async def scenario() -> int:
        app = ctx.workspace.connections.add_app_for_this_run("App", app_credentials(app_portal))
        await until(lambda: window.connection_id == app.id, what="the app connection to be picked")
        window.findChild(QDockWidget, "eventsDock").show()  # View → Events
        await until(lambda: "✓" in panel.note.text(), what="the feature check")
        assert panel.bind_button.isEnabled()
        panel.check_events(["ONCRMDEALADD"])
        await panel.bind_checked()
        panel.interval.setCurrentIndex(panel.interval.findData(2.0))
        panel.watch_button.setChecked(True)
        client = await window.client()
        deal = int((await client.call("crm.deal.add", {"fields": {"TITLE": "From the panel"}})).result)
        await until(lambda: panel.model.rowCount() == 1, what="the record")
        panel.table.setCurrentIndex(panel.model.index(0, 0))
        panel.open_selected()
        assert window.method_field.method() == "crm.deal.get"
        assert window.params_editor.params() == {"id": deal}
        shown: list[Any] = []
        window.response_shown.connect(shown.append)
        window.send()
        await until(lambda: shown, what="the deal to be shown")
        assert str(shown[0].result["ID"]) == str(deal)
        window.select_connection("Sandbox")
        await until(lambda: panel.poller is None, what="the watch to stop with the connection")
        assert panel.note.text() == WEBHOOK_NOTE
        assert panel.model.rowCount() == 0
        return deal

    arun(scenario(), timeout=40)


def test_bind_a_write_watch_open_and_clear(panel_on_app: Any, arun: Any, until: Any) -> None:
    panel, client, opened, _log, _creds = panel_on_app
    assert "✓" in panel.note.text()  # the feature check ran first
    service = EventsService(client)

    # Everything while the poller runs happens inside one run of the loop, as in the app.
    async def scenario() -> int:
        panel.check_events(["ONCRMDEALADD", "ONCRMDEALUPDATE"])
        await panel.bind_checked()
        assert "ONCRMDEALADD: bound offline" in panel.status.text()
        assert {b.event for b in await service.bindings()} == {"ONCRMDEALADD", "ONCRMDEALUPDATE"}

        panel.read_mode.setCurrentIndex(panel.read_mode.findData(True))  # keep
        panel.interval.setCurrentIndex(panel.interval.findData(2.0))
        panel.watch_button.setChecked(True)
        deal = (await client.call("crm.deal.add", {"fields": {"TITLE": "Fires"}})).result
        await until(lambda: panel.model.rowCount() == 1, within=10, what="the add record")
        await client.call("crm.deal.update", {"id": deal, "fields": {"TITLE": "Changed"}})
        await until(lambda: panel.model.rowCount() == 2, within=10, what="the update record")
        shown = [[panel.model.item(r, c).text() for c in range(4)] for r in range(panel.model.rowCount())]
        assert [row[1:3] for row in shown] == [["ONCRMDEALUPDATE", str(deal)], ["ONCRMDEALADD", str(deal)]]
        assert all(row[3] for row in shown)  # message ids

        panel.table.setCurrentIndex(panel.model.index(1, 0))
        panel.open_selected()
        assert opened == [ObjectCall("crm.deal.get", {"id": deal})]

        assert len((await service.pull(keep=True)).records) == 2  # keep: still queued
        assert await panel.clear_shown() == 2
        assert panel.model.rowCount() == 0
        assert (await service.pull(keep=True)).records == []

        panel.watch_button.setChecked(False)
        await until(lambda: panel.poller is None, what="the poller to stop")
        await panel.unbind_checked()
        assert await service.bindings() == []
        return int(deal)

    arun(scenario(), timeout=40)


def test_take_mode_on_the_portals_hint(panel_on_app: Any, arun: Any, until: Any) -> None:
    panel, client, _opened, _log, _creds = panel_on_app
    service = EventsService(client)

    async def scenario() -> None:
        panel.check_events(["ONCRMLEADADD"])
        await panel.bind_checked()
        panel.read_mode.setCurrentIndex(panel.read_mode.findData(False))  # take and clear
        panel.interval.setCurrentIndex(panel.interval.findData(0.0))  # on ONOFFLINEEVENT
        panel.watch_button.setChecked(True)
        await until(lambda: panel.poller is not None and panel.poller.polls >= 1, what="the first poll")
        assert ("ONOFFLINEEVENT", False) in {(b.event, b.offline) for b in await service.bindings()}
        polls = panel.poller.polls
        lead = (await client.call("crm.lead.add", {"fields": {"TITLE": "Hinted"}})).result
        # the fallback poll is a minute away: only the hint can bring the record this soon
        await until(lambda: panel.model.rowCount() == 1, within=8, what="the hinted record")
        assert panel.poller.polls > polls
        assert panel.model.item(0, 2).text() == str(lead)
        assert (await service.pull(keep=True)).records == []  # taken means cleared
        panel.watch_button.setChecked(False)
        await until(lambda: panel.poller is None, what="the watch to stop")
        await until(lambda: not panel._tasks, what="the hint to be unbound")

    arun(scenario(), timeout=40)
    assert "ONOFFLINEEVENT" not in {b.event for b in arun(service.bindings())}


def test_online_listener_masks_auth_and_checks_the_token(panel_on_app: Any, app_portal: Sandbox, arun: Any,
                                                          until: Any) -> None:
    panel, client, _opened, log, _creds = panel_on_app
    token = app_portal.portal.oauth.app.application_token

    async def scenario() -> None:
        panel.app_token.setText(token)
        panel.listen_button.setChecked(True)
        await until(lambda: panel.listener is not None, what="the listener")
        url = panel.listener.handler_url
        assert url in panel.handler_label.text()
        await EventsService(client).bind(["ONCRMDEALADD"], offline=False, handler=url)
        deal = (await client.call("crm.deal.add", {"fields": {"TITLE": "Online"}})).result
        await until(lambda: panel.online_list.count() == 1, what="the online event")
        event = panel.online[0]
        assert (event.event, event.object_id, str(event.verdict)) == ("ONCRMDEALADD", deal, "accepted")
        panel.listen_button.setChecked(False)
        await until(lambda: panel.listener is None, what="the listener to stop")

    arun(scenario())
    assert panel.handler_label.text() == "Not listening."
    text = panel.payload_view.toPlainText()
    for key in ('"auth"', '"member_id"', '"access_token"'):  # the block keeps its shape, its tokens masked
        assert key in text
    issued = list(app_portal.portal.oauth._by_access.values())  # every token pair the portal handed out
    secrets = [token] + [g.access_token for g in issued] + [g.refresh_token for g in issued]
    shown_log = "\n".join(r.format_line() + repr(r.context) for r in log.history)
    assert "EVENT_RECEIVED" in shown_log
    for secret in secrets:
        assert secret not in text
        assert secret not in shown_log
