"""Keyring failure modes through the window: no backend, locked collection, prompt dismissed, entry deleted.

A connection is saved while the keyring works; then the keyring fails and the app is restarted (so the webhook
must come from the keyring again). Sending on that connection shows a clear message (cause and way out, never the
secret); the rest of the app keeps working (another connection sends fine); once the keyring is back (or the
webhook is pasted again) the same connection works without a restart. Saving while the keyring fails shows the
failure dialog with "use for this run only", and nothing reaches a file.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import keyring
import pytest
import rel_keyrings
from rel_stats import count
from rel_window import close_loop, make_loop, open_window, runner

from b24explorer.app import SANDBOX_CONNECTION
from b24explorer.core.vault import SERVICE
from b24explorer.core.webhook import Webhook


@pytest.fixture
def wloop(qapp: Any) -> Iterator[asyncio.AbstractEventLoop]:
    loop = make_loop(qapp)
    yield loop
    close_loop(loop)


@pytest.fixture
def app(qtbot: Any, wloop: Any, rel_home: Path, sb: Any) -> Iterator[Any]:
    """`app()` opens the window (as after a start: settings read from disk) with the sandbox connection too."""
    contexts: list[Any] = []

    def start() -> Any:
        for old in contexts:
            old.window.close()
            wloop.run_until_complete(old.aclose())
        ctx = open_window(qtbot, sb.webhook_url)
        contexts.append(ctx)
        return ctx

    yield start
    for ctx in contexts:
        ctx.window.cancel()
        wloop.run_until_complete(ctx.aclose())
        ctx.workspace.state.flush()


def send(ctx: Any, run: Any, connection: str, method: str = "server.time") -> Any:
    window = ctx.window
    window.select_connection(connection)
    window.choose_method(method)
    window.params_editor.set_text("{}")
    task = window.send()
    assert task is not None
    run(task)
    return window._last_outcome


def files_with(home: Path, needle: str) -> list[Path]:
    return [p for p in home.rglob("*") if p.is_file() and needle.encode() in p.read_bytes()]


FAILURES = {
    "no_backend": (rel_keyrings.no_backend, "KEYRING_NO_BACKEND", "No secure password store"),
    "locked": (rel_keyrings.locked, "KEYRING_LOCKED", "keyring is locked"),
    "prompt_dismissed": (rel_keyrings.prompt_dismissed, "KEYRING_PROMPT_DISMISSED", "prompt was dismissed"),
}


@pytest.mark.parametrize("failure", list(FAILURES))
def test_reading_a_saved_webhook_from_a_failing_keyring(failure: str, app: Any, sb: Any, wloop: Any,
                                                        working_keyring: Any, rel_home: Path) -> None:
    make_backend, code, cause = FAILURES[failure]
    run = runner(wloop)
    portal = sb.add_webhook(user_id=1)
    secret = Webhook.parse(portal).secret

    first = app()
    run(first.workspace.connections.add("Portal", Webhook.parse(portal)))
    first.workspace.state.flush()

    keyring.set_keyring(make_backend())
    ctx = app()  # a restart: the webhook is in the keyring only
    assert "Portal" in ctx.workspace.connections.names()
    outcome = send(ctx, run, "Portal")

    assert outcome.error_code == code
    banner = ctx.window.error_banner.text()
    assert ctx.window.error_banner.isVisible()
    assert "could not be read" in banner
    assert cause.lower() in banner.lower()
    assert "this run only" in banner or "try again" in banner.lower()  # the way out
    assert secret not in banner

    # the rest of the app is usable: another connection sends
    other = send(ctx, run, SANDBOX_CONNECTION)
    assert other.error_code == ""
    assert ctx.window.response_status.facts.ok

    # the keyring is back: the same connection works, no restart
    keyring.set_keyring(working_keyring)
    again = send(ctx, run, "Portal")
    assert again.error_code == "", again.error_message
    assert files_with(rel_home, secret) == []
    count("keyring.modes")


def test_entry_deleted_behind_the_apps_back(app: Any, sb: Any, wloop: Any, working_keyring: Any,
                                            rel_home: Path) -> None:
    run = runner(wloop)
    portal = sb.add_webhook(user_id=1)
    secret = Webhook.parse(portal).secret
    first = app()
    saved = run(first.workspace.connections.add("Portal", Webhook.parse(portal)))
    first.workspace.state.flush()
    keyring.delete_password(SERVICE, saved.id)  # as a password manager would, outside the app

    ctx = app()
    outcome = send(ctx, run, "Portal")
    assert outcome.error_code == "KEYRING_ENTRY_MISSING"
    banner = ctx.window.error_banner.text()
    assert "no longer in the keyring" in banner
    assert "paste its webhook URL again" in banner
    assert secret not in banner
    assert send(ctx, run, SANDBOX_CONNECTION).error_code == ""

    # the way out it names: paste the webhook again (saved in the keyring again), and the connection works
    run(ctx.workspace.connections.update_webhook("Portal", Webhook.parse(portal)))
    assert send(ctx, run, "Portal").error_code == ""
    assert keyring.get_password(SERVICE, saved.id) == Webhook.parse(portal).url
    assert files_with(rel_home, secret) == []
    count("keyring.modes")


@pytest.mark.parametrize("failure", list(FAILURES))
def test_saving_into_a_failing_keyring_offers_this_run_only(failure: str, app: Any, sb: Any, wloop: Any,
                                                            working_keyring: Any, rel_home: Path,
                                                            qtbot: Any) -> None:
    from b24explorer.ui.connections import ConnectionDialog, KeyringFailureDialog

    make_backend, _code, cause = FAILURES[failure]
    keyring.set_keyring(make_backend())
    ctx = app()
    portal = sb.add_webhook(user_id=1)
    secret = Webhook.parse(portal).secret
    run = runner(wloop)

    async def until(what: type) -> Any:
        for _ in range(500):
            if isinstance(ctx.flow.dialog, what):
                return ctx.flow.dialog
            await asyncio.sleep(0.02)
        raise AssertionError(f"no {what.__name__} appeared")

    async def scenario() -> Any:
        task = asyncio.ensure_future(ctx.flow.add())
        dialog = await until(ConnectionDialog)
        dialog.name_edit.setText("Portal")
        dialog.url_edit.setText(portal)
        dialog.accept()
        failure_dialog = await until(KeyringFailureDialog)
        texts = failure_dialog.cause_label.text() + " " + failure_dialog.action_label.text()
        assert cause.lower() in texts.lower()
        assert secret not in texts + failure_dialog.windowTitle()
        assert failure_dialog.session_button is not None
        failure_dialog.session_button.click()
        return await task

    assert run(scenario()).name == "Portal"
    outcome = send(ctx, run, "Portal")
    assert outcome.error_code == ""  # usable for this run
    ctx.window.close()
    ctx.workspace.state.flush()
    assert files_with(rel_home, secret) == []  # never written in plain text
    count("keyring.save_modes")


CLI_FAILURES = {**FAILURES, "entry_deleted": (None, "", "no longer in the keyring")}


@pytest.mark.parametrize("failure", list(CLI_FAILURES))
def test_cli_profile_with_a_failing_keyring(failure: str, sb: Any, working_keyring: Any, rel_home: Path,
                                            capsys: pytest.CaptureFixture[str]) -> None:
    """`b24x … --profile NAME` when the keyring fails: exit 2 with the cause, no traceback, no secret; the same
    command with the webhook given another way still works."""
    from b24explorer import cli
    from b24explorer.core.settings import ConnectionProfile, SettingsStore
    from b24explorer.core.vault import new_reference, save_webhook

    make_backend, _code, cause = CLI_FAILURES[failure]
    url, secret = sb.webhook_url, sb.secret
    ref = new_reference()
    save_webhook(ref, url)
    store = SettingsStore()
    settings = store.load()
    hook = Webhook.parse(url)
    settings.connections.append(ConnectionProfile(name="portal", portal=hook.portal, user_id=hook.user_id,
                                                  keyring_ref=ref))
    store.save(settings)
    if make_backend is None:
        keyring.delete_password(SERVICE, ref)
    else:
        keyring.set_keyring(make_backend())
    command = ["batch", "--cmd", '{"t": ["server.time", {}]}']

    code = cli.main([*command, "--profile", "portal"])
    out, err = capsys.readouterr()
    assert code == 2
    assert cause.lower() in err.lower()
    assert "Traceback" not in err
    assert secret not in out + err

    assert cli.main([*command, "--webhook", url]) == 0  # the rest of the CLI works
    capsys.readouterr()
    count("keyring.cli_modes")
