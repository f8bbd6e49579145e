"""Connections: add/edit/rename/delete through the dialogs, webhooks in the keyring only, failure dialogs."""

from __future__ import annotations

import asyncio
from pathlib import Path

import keyring
import keyring.errors
import pytest
from keyring_backends import DismissedPromptKeyring, LockedKeyring

from b24explorer.core.state import FileState
from b24explorer.core.vault import SERVICE
from b24explorer.ui.connections import ConnectionDialog, ConnectionsDialog, KeyringFailureDialog, RenameDialog
from b24explorer.ui.qt import QDialogButtonBox, QMessageBox, Qt


def secret_of(url: str) -> str:
    return url.rstrip("/").rsplit("/", 1)[-1]


def files_containing(root: Path, needle: str) -> list[Path]:
    hits = []
    for path in root.rglob("*"):
        if path.is_file() and needle.encode() in path.read_bytes():
            hits.append(path)
    return hits


async def next_dialog(flow, kind, until):
    return await until(lambda: flow.dialog if isinstance(flow.dialog, kind) else None, what=kind.__name__)


def save_button(dialog: ConnectionDialog):
    return dialog.buttons.button(QDialogButtonBox.StandardButton.Save)


async def submit_new_connection(ctx, until, name: str, url: str, limits: str | None = None) -> asyncio.Future:
    """Opens "Add connection", fills in the dialog and saves it; the flow's task (it ends with the name, or None)."""
    task = asyncio.ensure_future(ctx.flow.add())
    dialog = await next_dialog(ctx.flow, ConnectionDialog, until)
    dialog.name_edit.setText(name)
    dialog.url_edit.setText(url)
    if limits is not None:
        dialog.limits_combo.setCurrentIndex(dialog.limits_combo.findData(limits))
    save_button(dialog).click()
    return task


def test_webhook_errors_show_inline_and_never_echo_the_secret(make_window, qtbot, sb) -> None:
    ctx = make_window()
    dialog = ConnectionDialog(ctx.window, taken_names={"Prod"}, tester=None)
    qtbot.addWidget(dialog)
    dialog.show()
    qtbot.keyClicks(dialog.name_edit, "Prod")
    assert "already exists" in dialog.name_error.text()
    dialog.name_edit.setText("Staging")
    cases = {
        "http://portal.example.com/rest/1/verysecretcode123/": "HTTPS",
        "https://portal.example.com/rest/1/": "no secret",
        "https://portal.example.com/rest/abc/verysecretcode123/": "numeric",
        "https://portal.example.com/rest/1/verysecretcode123/crm.deal.list": "extra path",
    }
    for url, expected in cases.items():
        dialog.url_edit.setText(url)
        assert dialog.url_error.isVisible()
        assert expected.lower() in dialog.url_error.text().lower()
        assert "verysecretcode123" not in dialog.url_error.text()
        assert not save_button(dialog).isEnabled()
    dialog.url_edit.setText(sb.webhook_url)
    assert not dialog.url_error.isVisible()
    assert save_button(dialog).isEnabled()
    assert dialog.url_edit.echoMode() == dialog.url_edit.EchoMode.Password
    assert secret_of(sb.webhook_url) not in dialog.masked_label.text()


def test_add_test_rename_delete_a_connection(make_window, sb, qtbot, arun, until, memory_keyring, app_home) -> None:
    ctx = make_window(settings=FileState())
    flow = ctx.flow
    secret = secret_of(sb.webhook_url)

    async def add() -> None:
        task = asyncio.ensure_future(flow.add())
        dialog = await next_dialog(flow, ConnectionDialog, until)
        qtbot.keyClicks(dialog.name_edit, "Sandbox portal")
        dialog.url_edit.setText(sb.webhook_url)
        qtbot.mouseClick(dialog.test_button, Qt.MouseButton.LeftButton)
        await until(lambda: "Connection works" in dialog.test_result.text(), what="the connection test")
        text = dialog.test_result.text()
        assert "user id 1" in text
        assert "administrator" in text
        assert "crm" in text
        assert "scopes" in text
        assert secret not in text
        qtbot.mouseClick(save_button(dialog), Qt.MouseButton.LeftButton)
        assert (await task).name == "Sandbox portal"

    arun(add())
    [(service, ref)] = list(memory_keyring.items)
    assert service == SERVICE
    assert memory_keyring.items[(service, ref)] == sb.webhook_url  # the keyring holds the URL …
    assert ctx.window.connection.name == "Sandbox portal"
    ctx.workspace.state.flush()
    assert files_containing(app_home, secret) == []  # … and nothing the app wrote does
    saved = FileState().load_connections()
    assert [(c.name, c.user_id, c.id) for c in saved] == [("Sandbox portal", 1, ref)]

    async def send_through_it() -> None:
        ctx.window.choose_method("server.time")
        task = ctx.window.send()
        assert task is not None
        await task

    arun(send_through_it())
    assert ctx.window.response_status.facts.ok

    async def rename() -> None:
        info = ctx.workspace.connections.get("Sandbox portal")
        task = asyncio.ensure_future(flow.rename(info))
        dialog = await next_dialog(flow, RenameDialog, until)
        dialog.edit.setText("Local")
        dialog.buttons.button(QDialogButtonBox.StandardButton.Ok).click()
        await task

    arun(rename())
    history, panel = ctx.power.history, ctx.power.history_panel
    assert history.count(ref) == 1  # the call sent before the rename refers to the connection's id …
    arun(until(lambda: panel.row_ids() and "Local" in panel.model.item(0, 0).toolTip(),
               what="the history panel to show the new name"))  # … so it is listed under the new name
    ctx.workspace.state.flush()
    assert [c.name for c in FileState().load_connections()] == ["Local"]
    assert list(memory_keyring.items) == [(SERVICE, ref)]  # a rename never touches the keyring
    assert ctx.window.connection_picker.current_id() == ctx.workspace.connections.require("Local").id

    async def delete() -> None:
        info = ctx.workspace.connections.get("Local")
        task = asyncio.ensure_future(flow.delete(info))
        box = await next_dialog(flow, QMessageBox, until)
        box.button(QMessageBox.StandardButton.Yes).click()
        await task

    arun(delete())
    ctx.workspace.state.flush()
    assert memory_keyring.items == {}
    assert FileState().load_connections() == []
    assert files_containing(app_home, secret) == []


def test_manage_dialog_lists_and_edits(make_window, sb, qtbot, arun, until, memory_keyring) -> None:
    ctx = make_window(sb)
    other = sb.add_webhook(user_id=1, scopes=["crm"])

    async def scenario() -> None:
        task = asyncio.ensure_future(ctx.flow.manage())
        manage = await next_dialog(ctx.flow, ConnectionsDialog, until)
        assert manage.list.count() == 1  # the sandbox, which cannot be edited
        assert not manage.edit_button.isEnabled()
        qtbot.mouseClick(manage.add_button, Qt.MouseButton.LeftButton)
        dialog = await next_dialog(ctx.flow, ConnectionDialog, until)
        dialog.name_edit.setText("CRM only")
        dialog.url_edit.setText(other)
        qtbot.mouseClick(dialog.test_button, Qt.MouseButton.LeftButton)
        await until(lambda: "scopes" in dialog.test_result.text(), what="the test")
        assert "May use 1 scopes: crm" in dialog.test_result.text()
        save_button(dialog).click()
        await until(lambda: manage.list.count() == 2, what="the new connection listed")
        manage.list.setCurrentRow(1)
        assert manage.edit_button.isEnabled()
        qtbot.mouseClick(manage.edit_button, Qt.MouseButton.LeftButton)
        edit = await next_dialog(ctx.flow, ConnectionDialog, until)
        assert edit.url_edit.text() == ""  # the saved webhook is never shown back
        assert save_button(edit).isEnabled()  # empty = keep the saved one
        edit.name_edit.setText("CRM")
        save_button(edit).click()
        await until(lambda: "CRM" in [c.name for c in ctx.workspace.connections.all()], what="rename")
        manage.reject()
        await task

    arun(scenario())
    assert list(memory_keyring.items.values()) == [other]


@pytest.mark.parametrize(
    ("backend", "cause"),
    [
        (lambda: __import__("keyring.backends.fail", fromlist=["Keyring"]).Keyring(), "No secure password store"),
        (LockedKeyring, "locked"),
        (DismissedPromptKeyring, "prompt was dismissed"),
    ],
    ids=["no-backend", "locked", "prompt-dismissed"],
)
def test_keyring_failure_dialog_offers_this_run_only(make_window, sb, qtbot, arun, until, app_home,
                                                     backend, cause) -> None:
    keyring.set_keyring(backend())
    ctx = make_window(settings=FileState())
    secret = secret_of(sb.webhook_url)

    async def scenario() -> None:
        task = await submit_new_connection(ctx, until, "Portal", sb.webhook_url)
        failure = await next_dialog(ctx.flow, KeyringFailureDialog, until)
        assert cause.lower() in failure.cause_label.text().lower()
        assert "plain-text" in "".join(w.text() for w in failure.findChildren(type(failure.cause_label)))
        assert failure.session_button is not None
        assert failure.session_button.text() == "Use for this run only (not saved)"
        failure.session_button.click()
        assert (await task).name == "Portal"
        ctx.window.choose_method("profile")
        sent = ctx.window.send()
        assert sent is not None
        await sent

    arun(scenario())
    info = ctx.workspace.connections.get("Portal")
    assert info.kind == "session"
    assert ctx.window.response_status.facts.ok  # usable for this run
    ctx.window.close()
    ctx.workspace.state.flush()
    assert FileState().load_connections() == []  # not saved …
    assert files_containing(app_home, secret) == []  # … and never written in plain text


def test_cancelling_the_failure_dialog_adds_nothing(make_window, sb, arun, until) -> None:
    keyring.set_keyring(LockedKeyring())
    ctx = make_window()

    async def scenario() -> None:
        task = await submit_new_connection(ctx, until, "Portal", sb.webhook_url)
        failure = await next_dialog(ctx.flow, KeyringFailureDialog, until)
        failure.cancel_button.click()
        assert await task is None

    arun(scenario())
    assert ctx.workspace.connections.all() == []


@pytest.mark.real_keyring
def test_connection_saved_and_read_back_through_the_secret_service(make_window, sb, arun, until, app_home) -> None:
    from b24explorer.core import vault

    assert vault.has_backend(), vault.backend_description()
    ctx = make_window(settings=FileState())
    secret = secret_of(sb.webhook_url)

    async def add() -> None:
        task = await submit_new_connection(ctx, until, "Real keyring", sb.webhook_url)
        assert (await task).name == "Real keyring"

    arun(add())
    ctx.workspace.state.flush()
    [saved] = FileState().load_connections()
    assert keyring.get_password(SERVICE, saved.id) == sb.webhook_url
    ctx.window.close()

    # A fresh window (as after a restart) reads the webhook back from the Secret Service and calls through it.
    again = make_window(settings=FileState())
    assert again.window.connection.name == "Real keyring"
    ctx.workspace.state.flush()

    async def call() -> None:
        again.window.choose_method("server.time")
        task = again.window.send()
        assert task is not None
        await task

    arun(call())
    assert again.window.response_status.facts.ok
    assert files_containing(app_home, secret) == []
    arun(again.workspace.connections.remove("Real keyring"))
    assert keyring.get_password(SERVICE, saved.id) is None


@pytest.mark.parametrize("failure", ["deleted", "locked"])
def test_webhook_unreadable_at_send_time_is_explained(make_window, sb, qtbot, arun, until, memory_keyring,
                                                      failure) -> None:
    from b24explorer.core.webhook import Webhook

    ctx = make_window()
    window = ctx.window
    arun(ctx.workspace.connections.add("Portal", Webhook.parse(sb.webhook_url)))
    window.refresh_connections("Portal")
    if failure == "deleted":
        memory_keyring.items.clear()  # removed behind the app's back
    else:
        keyring.set_keyring(LockedKeyring())
    before = sb.counters.requests()
    window.choose_method("server.time")

    async def send() -> None:
        task = window.send()
        assert task is not None
        await task

    arun(send())
    text = window.error_banner.text()
    assert "could not be read" in text
    assert ("no longer in the keyring" if failure == "deleted" else "locked") in text
    assert sb.counters.requests() == before  # nothing was sent without a webhook
    assert window.send_action.isEnabled()  # the window stays usable

    async def edit_from_the_banner() -> None:
        window.error_banner.linkActivated.emit("action:edit-connection")
        dialog = await next_dialog(ctx.flow, ConnectionDialog, until)
        assert dialog.existing.name == "Portal"
        dialog.reject()

    arun(edit_from_the_banner())


def test_rate_limit_preset_is_chosen_saved_and_used(make_window, sb, arun, until, memory_keyring) -> None:
    ctx = make_window(settings=FileState())

    async def add() -> None:
        task = await submit_new_connection(ctx, until, "Big portal", sb.webhook_url, limits="enterprise")
        assert (await task).name == "Big portal"

    arun(add())
    ctx.workspace.state.flush()
    assert [c.limits for c in FileState().load_connections()] == ["enterprise"]
    client = arun(ctx.workspace.client("Big portal"))
    assert (client.limits_config.burst, client.limits_config.drain_rate) == (250, 5)

    async def edit() -> None:
        task = asyncio.ensure_future(ctx.flow.edit(ctx.workspace.connections.get("Big portal")))
        dialog = await next_dialog(ctx.flow, ConnectionDialog, until)
        assert dialog.limits() == "enterprise"
        dialog.limits_combo.setCurrentIndex(dialog.limits_combo.findData("standard"))
        save_button(dialog).click()
        await task

    arun(edit())
    client = arun(ctx.workspace.client("Big portal"))
    assert (client.limits_config.burst, client.limits_config.drain_rate) == (50, 2)
