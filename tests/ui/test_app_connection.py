""""Connect an application" in the window, on the sandbox: the dialog shows the redirect address, opens the
authorize page (a headless browser follows it here), waits with cancel, and saves an app connection whose calls,
refreshes, picker, history and copy-as-code all work — with no token or client secret in any file."""

from __future__ import annotations

import asyncio
from pathlib import Path

import httpx
import pytest
from headless_browser import HeadlessBrowser
from tls_portal import ISSUER, OPENSSL, make_pki, serve_portal

from b24explorer.core.catalog import NEEDS_APP_CONTEXT
from b24explorer.core.oauth import OAuthCredentials
from b24explorer.core.outcome import RequestOutcome
from b24explorer.core.state import FileState
from b24explorer.core.vault import SERVICE
from b24explorer.core.webhook import Webhook
from b24explorer.sandbox import Sandbox
from b24explorer.ui.app_connection_dialog import AppConnectionDialog
from b24explorer.ui.connection_dialogs import ConnectionDialog
from b24explorer.ui.qt import QDialogButtonBox


@pytest.fixture
def portal(make_sandbox) -> Sandbox:
    return make_sandbox(deals=60)


def fill(dialog: AppConnectionDialog, sb: Sandbox, name: str = "App") -> None:
    app = sb.portal.oauth.app
    dialog.name_edit.setText(name)
    dialog.portal_edit.setText(sb.base_url)
    dialog.client_id_edit.setText(app.client_id)
    dialog.secret_edit.setText(app.client_secret)
    dialog.server_edit.setText(f"{sb.base_url}/oauth/token/")


async def open_dialog(ctx, until) -> tuple[asyncio.Future, AppConnectionDialog]:
    task = asyncio.ensure_future(ctx.flow.connect_app())
    dialog = await until(lambda: ctx.flow.dialog if isinstance(ctx.flow.dialog, AppConnectionDialog) else None,
                         what="the Connect an application dialog")
    return task, dialog


async def send(window, method: str) -> None:
    """The method through the window's current connection, as Ctrl+Enter sends it."""
    window.choose_method(method)
    task = window.send()
    assert task is not None
    await task


def files_holding(root: Path, secrets: tuple[str, ...]) -> list[str]:
    return [f"{p.name}:{s[:4]}" for p in root.rglob("*") if p.is_file() for s in secrets if s.encode() in p.read_bytes()]


def test_connect_call_refresh_and_nothing_on_disk(make_window, portal, arun, until, memory_keyring,
                                                  app_home) -> None:
    sb = portal
    ctx = make_window(sandbox=sb, settings=FileState())
    browser = HeadlessBrowser()
    ctx.flow.open_browser = browser
    finished: list[RequestOutcome] = []
    ctx.window.request_finished.connect(finished.append)

    async def connect() -> None:
        task, dialog = await open_dialog(ctx, until)
        assert not dialog.connect_button.isEnabled()
        fill(dialog, sb)
        assert dialog.secret_edit.echoMode() == dialog.secret_edit.EchoMode.Password
        redirect = dialog.redirect_uri()
        assert redirect in dialog.redirect_label.text()  # to be entered as the app's handler URL
        assert dialog.connect_button.isEnabled()
        dialog.connect_button.click()
        conn = await asyncio.wait_for(task, 20)
        assert conn is not None
        assert conn.is_app
        page = await browser.pages[-1]
        assert "connected" in page.text
        assert f"redirect_uri={redirect.replace(':', '%3A').replace('/', '%2F')}" in browser.urls[0]

    arun(connect())
    [(service, ref)] = list(memory_keyring.items)
    assert service == SERVICE
    first = OAuthCredentials.from_keyring_text(memory_keyring.items[(service, ref)])
    assert first.app.client_secret == sb.portal.oauth.app.client_secret

    async def call(method: str) -> RequestOutcome:
        await send(ctx.window, method)
        return finished[-1]

    async def use_it() -> None:
        ctx.window.select_connection("App")
        await until(lambda: (e := ctx.window.method_picker.entry("event.bind")) is not None and e.available,
                    what="event.bind enabled on the app connection")
        outcome = await call("app.info")
        assert outcome.result.result["INSTALLED"] is True
        async with httpx.AsyncClient() as control:
            (await control.post(f"{sb.control_url}oauth/expire")).raise_for_status()
        outcome = await call("app.option.get")
        assert not outcome.error_code, outcome.error_message
        code = ctx.power.copy_as("python")
        text = await code
        assert "B24_ACCESS_TOKEN" in text
        assert f"{sb.base_url}/rest" in text

    arun(use_it())
    renewed = OAuthCredentials.from_keyring_text(memory_keyring.items[(service, ref)])
    assert renewed.tokens.access_token != first.tokens.access_token
    assert sb.counters.requests("oauth/token:refresh_token") == 1

    async def webhook_greys_them_out() -> None:
        ctx.window.select_connection("Sandbox")
        await until(lambda: (e := ctx.window.method_picker.entry("event.bind")) is not None
                    and e.available is False, what="event.bind greyed out on the webhook")

    arun(webhook_greys_them_out())
    entry = ctx.window.method_picker.entry("placement.bind")
    assert entry is not None
    assert entry.why_not == NEEDS_APP_CONTEXT

    ctx.workspace.state.flush()
    assert ctx.power.history.count(ref) == 2  # both calls are in the history, under the app connection
    assert {"settings.json", "history.sqlite3"} <= {p.name for p in app_home.rglob("*")}
    secrets = (*first.secrets, *renewed.secrets)
    assert files_holding(app_home, secrets) == []
    [saved] = FileState().load_connections()
    assert (saved.id, saved.is_app) == (ref, True)


def test_paste_tokens_and_cancel_the_wait(make_window, portal, qtbot, arun, until, memory_keyring) -> None:
    sb = portal
    ctx = make_window(sandbox=sb)
    opened: list[str] = []
    ctx.flow.open_browser = opened.append  # nobody approves: the dialog waits

    async def cancel_then_paste() -> None:
        task, dialog = await open_dialog(ctx, until)
        fill(dialog, sb, "Waiting")
        dialog.connect_button.click()
        await until(lambda: opened, what="the authorize page opened")
        assert dialog.waiting()
        assert not dialog.portal_edit.isEnabled()
        dialog.cancel_button.click()  # stops waiting, keeps the dialog
        await until(lambda: not dialog.waiting(), what="the wait to stop")
        assert dialog.isVisible()
        assert "Stopped waiting" in dialog.status_label.text()
        assert dialog.portal_edit.isEnabled()

        elsewhere = await authorize_elsewhere(sb)
        dialog.paste_radio.setChecked(True)
        assert not dialog.connect_button.isEnabled()  # no tokens yet
        dialog.access_edit.setText(elsewhere.tokens.access_token)
        dialog.refresh_edit.setText(elsewhere.tokens.refresh_token)
        dialog.connect_button.click()
        conn = await asyncio.wait_for(task, 10)
        assert conn.name == "Waiting"
        client = await ctx.workspace.client(conn.id)
        assert (await client.call("app.info")).result["ID"] == 1

    arun(cancel_then_paste())


async def authorize_elsewhere(sb: Sandbox) -> OAuthCredentials:
    from b24explorer.core.oauth import OAuthApp
    from b24explorer.core.oauth_redirect import authorize_app

    browser = HeadlessBrowser()
    app = sb.portal.oauth.app
    creds = await authorize_app(sb.base_url, OAuthApp(app.client_id, app.client_secret, f"{sb.base_url}/oauth/token/"),
                                open_browser=browser, wait_s=10)
    await browser.pages[-1]
    return creds


def test_refusals_and_certificate_files_are_explained(make_window, portal, arun, until, memory_keyring,
                                                      tmp_path: Path) -> None:
    sb = portal
    ctx = make_window(sandbox=sb)
    ctx.flow.open_browser = HeadlessBrowser()

    async def refused() -> None:
        task, dialog = await open_dialog(ctx, until)
        fill(dialog, sb)
        dialog.secret_edit.setText("not-the-secret-1234")
        dialog.connect_button.click()
        await until(lambda: not dialog.waiting() and dialog.status_label.text(), what="the refusal")
        text = dialog.status_label.text()
        assert "client secret" in text
        assert "not-the-secret-1234" not in text
        bad_pem = tmp_path / "ca.pem"
        bad_pem.write_text("not a certificate")
        dialog.ca_field.edit.setText(str(bad_pem))
        assert not dialog.connect_button.isEnabled()
        assert dialog.problem_label.isVisible()
        dialog.cancel_button.click()
        assert await task is None

    arun(refused())
    assert memory_keyring.items == {}


@pytest.mark.skipif(OPENSSL is None, reason="needs the openssl command to make a test CA")
def test_a_company_ca_is_named_in_the_error_and_set_per_connection(make_window, arun, until, memory_keyring,
                                                                   tmp_path: Path) -> None:
    pki = make_pki(tmp_path)
    ctx = make_window()
    with serve_portal(pki) as server:
        url = f"https://127.0.0.1:{server.server_address[1]}/rest/1/onpremwebhook77/"
        conn = arun(ctx.workspace.connections.add("On-premise", Webhook.parse(url)))
        ctx.window.refresh_connections(conn.id)

        arun(send(ctx.window, "profile"))
        banner = ctx.window.error_banner.text()
        assert "TLS_CERTIFICATE_UNTRUSTED" in banner
        assert "127.0.0.1" in banner
        assert ISSUER in banner
        assert "Edit the connection to set its CA file" in banner
        assert "onpremwebhook77" not in banner

        async def set_the_ca_file() -> None:
            ctx.window.error_banner.linkActivated.emit("action:edit-connection")
            dialog = await until(lambda: ctx.flow.dialog if isinstance(ctx.flow.dialog, ConnectionDialog) else None,
                                 what="the connection dialog")
            dialog.ca_field.edit.setText(str(tmp_path / "missing.pem"))
            assert dialog.ca_error.isVisible()
            assert not dialog.buttons.button(QDialogButtonBox.StandardButton.Save).isEnabled()
            dialog.ca_field.edit.setText(str(pki["ca"]))
            dialog.buttons.button(QDialogButtonBox.StandardButton.Save).click()
            await until(lambda: ctx.workspace.connections.require(conn.id).ca_file == str(pki["ca"]),
                        what="the CA file saved with the connection")

        arun(set_the_ca_file())
        arun(send(ctx.window, "profile"))
        assert ctx.window.response_status.facts.ok
        assert any(path.startswith("/rest/1/onpremwebhook77/profile") for path in server.seen)


@pytest.mark.real_keyring
def test_an_app_connection_lives_in_the_secret_service_across_restarts(make_window, portal, arun, until,
                                                                       app_home) -> None:
    import keyring

    sb = portal
    ctx = make_window(settings=FileState())
    ctx.flow.open_browser = HeadlessBrowser()

    async def connect() -> str:
        task, dialog = await open_dialog(ctx, until)
        fill(dialog, sb, "Real app")
        dialog.connect_button.click()
        conn = await asyncio.wait_for(task, 20)
        return conn.id

    ref = arun(connect())
    first = OAuthCredentials.from_keyring_text(keyring.get_password(SERVICE, ref))
    ctx.workspace.state.flush()
    ctx.window.close()
    httpx.post(f"{sb.control_url}oauth/expire").raise_for_status()

    # A fresh window (as after a restart) reads the credentials back, refreshes and saves the new pair.
    again = make_window(settings=FileState())

    again.window.select_connection("Real app")
    arun(send(again.window, "app.info"))
    assert again.window.response_status.facts.ok
    renewed = OAuthCredentials.from_keyring_text(keyring.get_password(SERVICE, ref))
    assert renewed.tokens.refresh_token != first.tokens.refresh_token
    again.workspace.state.flush()
    assert files_holding(app_home, (*first.secrets, *renewed.secrets)) == []
    arun(again.workspace.connections.remove("Real app"))
    assert keyring.get_password(SERVICE, ref) is None


def test_a_locked_keyring_names_the_applications_credentials_and_offers_this_run(make_window, portal, arun,
                                                                                until) -> None:
    import keyring
    from keyring_backends import LockedKeyring

    from b24explorer.ui.connection_dialogs import KeyringFailureDialog
    from b24explorer.ui.qt import QLabel

    sb = portal
    keyring.set_keyring(LockedKeyring())  # (the test's keyring is restored after it)
    ctx = make_window(sandbox=sb)

    async def scenario() -> None:
        task, dialog = await open_dialog(ctx, until)
        fill(dialog, sb, "Locked")
        elsewhere = await authorize_elsewhere(sb)
        dialog.paste_radio.setChecked(True)
        dialog.access_edit.setText(elsewhere.tokens.access_token)
        dialog.refresh_edit.setText(elsewhere.tokens.refresh_token)
        dialog.connect_button.click()
        failure = await until(lambda: ctx.flow.dialog if isinstance(ctx.flow.dialog, KeyringFailureDialog) else None,
                              what="the keyring failure dialog")
        texts = " ".join(label.text() for label in failure.findChildren(QLabel))
        assert "The application credentials of “Locked” could not be saved in the keyring." in texts
        assert "webhook of" not in texts
        assert failure.session_button is not None
        failure.session_button.click()
        conn = await asyncio.wait_for(task, 10)
        assert conn.kind == "session"
        assert conn.is_app
        client = await ctx.workspace.client(conn.id)
        assert (await client.call("app.info")).result["ID"] == 1

    arun(scenario())
