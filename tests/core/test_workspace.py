"""The workspace: one Connection record per id with events, the client and catalog per connection, and the one
function that records a request's outcome — against the sandbox over loopback, with a real history file."""

from __future__ import annotations

import json
from typing import Any

import keyring
import pytest
from keyring_backends import MemoryKeyring

from b24explorer.core.connections import ConnectionChangeError, Renamed, Storage
from b24explorer.core.outcome import RequestKind
from b24explorer.core.state import FileState, MemoryState
from b24explorer.core.webhook import Webhook
from b24explorer.core.workspace import Workspace
from b24explorer.sandbox import Sandbox


@pytest.fixture
def memory_keyring(restore_keyring: None) -> MemoryKeyring:
    backend = MemoryKeyring()
    keyring.set_keyring(backend)  # restore_keyring puts the original back
    return backend


@pytest.fixture
def workspace(app_home: Any, memory_keyring: MemoryKeyring) -> Workspace:
    return Workspace(state=FileState(), client_options={"timeout": 10.0})


def events_of(workspace: Workspace) -> list[tuple[str, Any]]:
    seen: list[tuple[str, Any]] = []
    events = workspace.connections.events
    events.added.connect(lambda conn: seen.append(("added", conn.name)))
    events.renamed.connect(lambda r: seen.append(("renamed", (r.old_name, r.connection.name))))
    events.changed.connect(lambda conn: seen.append(("changed", conn.limits)))
    events.removed.connect(lambda conn: seen.append(("removed", conn.name)))
    return seen


async def test_a_rename_is_one_call_one_event_and_keeps_the_id_client_and_keyring(
        workspace: Workspace, sb: Sandbox, memory_keyring: MemoryKeyring) -> None:
    seen = events_of(workspace)
    conn = await workspace.connections.add("Prod", Webhook.parse(sb.webhook_url))
    client = await workspace.client(conn.id)
    keyring_before = dict(memory_keyring.items)

    renamed = workspace.connections.rename("Prod", "Production")

    assert seen == [("added", "Prod"), ("renamed", ("Prod", "Production"))]
    assert renamed.id == conn.id
    assert await workspace.client("Production") is client  # the cache is keyed by the id
    assert memory_keyring.items == keyring_before
    workspace.state.flush()  # settings are written off the loop's thread
    assert [(c.id, c.name) for c in FileState().load_connections()] == [(conn.id, "Production")]
    await workspace.aclose()


async def test_changed_limits_give_a_new_client_and_removal_forgets_everything(
        workspace: Workspace, sb: Sandbox, memory_keyring: MemoryKeyring) -> None:
    seen = events_of(workspace)
    conn = await workspace.connections.add("Prod", Webhook.parse(sb.webhook_url))
    first = await workspace.client(conn.id)
    workspace.connections.set_limits(conn.id, "enterprise")
    second = await workspace.client(conn.id)
    assert second is not first
    assert second.limits_config.burst == 250  # the enterprise preset

    await workspace.connections.remove(conn.id)
    assert seen == [("added", "Prod"), ("changed", "enterprise"), ("removed", "Prod")]
    assert memory_keyring.items == {}
    with pytest.raises(ConnectionChangeError, match="No connection"):
        await workspace.client(conn.id)
    await workspace.aclose()


async def test_names_are_checked(workspace: Workspace, sb: Sandbox) -> None:
    hook = Webhook.parse(sb.webhook_url)
    await workspace.connections.add("A", hook)
    b = workspace.connections.add_for_this_run("B", hook)
    assert b.storage is Storage.SESSION
    with pytest.raises(ConnectionChangeError, match="already exists"):
        workspace.connections.rename("B", "A")
    with pytest.raises(ConnectionChangeError, match="needs a name"):
        await workspace.connections.add("  ", hook)
    with pytest.raises(ConnectionChangeError, match="limits preset"):
        workspace.connections.set_limits("A", "turbo")
    workspace.state.flush()
    assert [c.name for c in FileState().load_connections()] == ["A"]  # this run's connection is never written


async def test_a_failing_listener_does_not_stop_the_others(sb: Sandbox) -> None:
    workspace = Workspace(state=MemoryState())
    heard: list[Renamed] = []

    def broken(_renamed: Renamed) -> None:
        raise RuntimeError("listener bug")

    workspace.connections.events.renamed.connect(broken)
    workspace.connections.events.renamed.connect(heard.append)
    records: list[Any] = []
    workspace.log_bus.subscribe(records.append)
    workspace.connections.add_sandbox("Sandbox", Webhook.parse(sb.webhook_url))
    workspace.connections.rename("Sandbox", "Local")
    assert [r.old_name for r in heard] == ["Sandbox"]
    assert any(r.code == "EVENT_LISTENER_FAILED" for r in records)


async def test_record_is_the_one_way_into_the_history(workspace: Workspace, sb: Sandbox) -> None:
    conn = await workspace.connections.add("Prod", Webhook.parse(sb.webhook_url))
    recorded: list[Any] = []
    workspace.recorded.connect(recorded.append)
    client = await workspace.client(conn.id)
    outcome = workspace.outcome(conn.id, "call", "crm.deal.get", 2, {"id": 2})
    outcome.answered(await client.call("crm.deal.get", {"id": 2}), 0.0)
    entry_id = await workspace.record(outcome)

    assert recorded == [outcome]
    entry = workspace.history.get(entry_id or 0)
    assert entry is not None
    assert (entry.connection, entry.connection_name, entry.kind, entry.status) == (conn.id, "Prod", "call", 200)
    assert sb.secret.encode() not in (entry.response or b"")
    workspace.connections.rename(conn.id, "Production")
    assert workspace.history.count(conn.id) == 1  # nothing in the history had to follow the rename
    assert outcome.kind is RequestKind.CALL
    await workspace.aclose()


def test_a_method_without_a_hint_gets_the_docs_template_once_the_catalog_is_loaded(workspace, monkeypatch) -> None:
    from b24explorer.core import hints, reference

    assert hints.hint("sale.order.add") is None
    monkeypatch.setattr(reference, "_loaded", None)
    assert workspace.template_for("sale.order.add", 2) == "{}"  # the catalog is read after the first paint, not here
    assert not reference.is_loaded()
    reference.reference_catalog()
    assert json.loads(workspace.template_for("sale.order.add", 2)) == {
        "fields": {"lid": "", "personTypeId": 0, "currency": ""}}
    assert json.loads(workspace.template_for("im.message.add", 2)) == json.loads(hints.template_text("im.message.add"))
