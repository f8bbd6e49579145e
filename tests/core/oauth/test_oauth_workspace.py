"""An application connection in the workspace: saved like a webhook one (record in settings, secret in the
keyring), its client calls through one OAuth session whose refreshed pair goes back to the keyring, and every
token it ever held stays in the workspace's secrets for masking."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest
from keyring_backends import MemoryKeyring
from oauth_helpers import authorize

from b24explorer.core.connections import Auth, ConnectionChangeError
from b24explorer.core.oauth import OAuthCredentials
from b24explorer.core.state import FileState
from b24explorer.core.workspace import Workspace
from b24explorer.sandbox import Sandbox


def expire_all(sb: Sandbox) -> None:
    httpx.post(f"{sb.control_url}oauth/expire").raise_for_status()


def files_holding(root: Path, secrets: tuple[str, ...]) -> tuple[list[str], list[str]]:
    """(every file under root, those holding one of the secrets)."""
    written = [p for p in root.rglob("*") if p.is_file()]
    return [p.name for p in written], [p.name for p in written for s in secrets if s.encode() in p.read_bytes()]


async def test_an_app_connection_is_saved_called_refreshed_and_masked(app_portal: Sandbox, app_home: Path,
                                                                       memory_keyring: MemoryKeyring) -> None:
    sb = app_portal
    creds = await authorize(sb)
    ws = Workspace(state=FileState())
    conn = await ws.connections.add_app("App", creds, ca_file="")
    assert (conn.auth, conn.is_app, conn.portal) == (Auth.OAUTH, True, sb.base_url)
    with pytest.raises(ConnectionChangeError, match="application"):
        await ws.connections.webhook("App")
    client = await ws.client("App")
    assert client.oauth is not None
    assert (await client.call("app.info")).result["ID"] == 1
    expire_all(sb)
    outcome = ws.outcome("App", "call", "app.option.get", 2, {"note": creds.tokens.access_token})
    outcome.answered(await client.call("app.option.get"), 0.0)
    assert await ws.record(outcome) is not None
    await ws.aclose()

    stored = OAuthCredentials.from_keyring_text(memory_keyring.items[("b24explorer", conn.id)])
    assert stored.tokens.access_token not in (creds.tokens.access_token, "")
    secrets = ws.known_secrets()
    assert {creds.tokens.access_token, stored.tokens.access_token, creds.app.client_secret} <= set(secrets)
    written, leaking = files_holding(app_home, secrets)
    assert "settings.json" in written
    assert "history.sqlite3" in written
    assert leaking == []

    # A later run reads the record (kind and all) and the renewed pair.
    again = Workspace(state=FileState())
    assert again.connections.require("App").auth is Auth.OAUTH
    assert again.state.settings.connections[0].auth == "oauth"  # type: ignore[attr-defined]
    assert (await again.connections.session("App")).credentials == stored
    assert (await (await again.client("App")).call("app.info")).result["ID"] == 1
    await again.aclose()


async def test_migration_v3_and_batch_run_through_an_app_connection(app_portal: Sandbox,
                                                                      memory_keyring: MemoryKeyring) -> None:
    from b24explorer.core import migration

    sb = app_portal
    ws = Workspace()
    conn = await ws.connections.add_app("App", await authorize(sb))
    client = await ws.client(conn.id)
    expire_all(sb)  # the first call of each kind meets an expired token
    run = await migration.run_migration(client, "tasks.task.list", {"select": ["ID"], "filter": {">=ID": 1}, "start": 0})
    assert run.exit_code == 0
    assert run.v2 is not None
    assert run.v3 is not None
    assert run.v2.ok
    assert run.v3.ok
    batch = await client.batch({"me": ["profile", {}], "app": ["app.info", {}]})
    assert batch.is_success
    assert sb.counters.requests("oauth/token:refresh_token") == 1
    await ws.aclose()


async def test_the_window_and_the_command_line_share_one_connection(app_portal: Sandbox,
                                                                     memory_keyring: MemoryKeyring) -> None:
    """Two processes hold the same pair: the first to meet the expiry refreshes; the second's refresh token is
    then spent, so it takes the pair the first saved instead of failing."""
    sb = app_portal
    window = Workspace(state=FileState())
    conn = await window.connections.add_app("App", await authorize(sb))
    window.state.flush()  # settings.json is written on a worker thread
    command_line = Workspace(state=FileState())
    assert (await command_line.connections.session("App")).credentials == (
        await window.connections.session("App")).credentials
    expire_all(sb)
    assert (await (await window.client(conn.id)).call("app.info")).result["ID"] == 1
    stored = OAuthCredentials.from_keyring_text(memory_keyring.items[("b24explorer", conn.id)])
    assert (await (await command_line.client(conn.id)).call("profile")).is_success
    assert (await command_line.connections.session("App")).credentials == stored
    assert sb.counters.requests("oauth/token:refresh_token") == 2  # the second one refused: its token was spent
    await window.aclose()
    await command_line.aclose()
