"""An app connection's credentials live in the OS keyring (a real Secret Service) and nowhere else: saved after
authorization, replaced after each refresh, and absent from every file the app writes during an OAuth session."""

from __future__ import annotations

import json
from pathlib import Path

import httpx
import pytest
from oauth_helpers import app_client, authorize

from b24explorer.core import AjaxError, vault
from b24explorer.core.oauth import OAuthSession
from b24explorer.core.oauth_store import (
    keyring_saver,
    read_credentials,
    read_credentials_sync,
    save_credentials,
    save_credentials_sync,
)
from b24explorer.core.outcome import RequestKind, RequestOutcome


def expire_all(sb) -> None:
    httpx.post(f"{sb.control_url}oauth/expire").raise_for_status()


@pytest.mark.real_keyring
async def test_credentials_round_trip_and_refresh_replaces_them(app_portal, reference: str) -> None:
    creds = await authorize(app_portal)
    facade = vault.Vault(timeout=10)
    await save_credentials(facade, reference, creds)
    assert await read_credentials(facade, reference) == creds
    assert read_credentials_sync(reference, timeout=10) == creds

    session = OAuthSession(await read_credentials(facade, reference), save=keyring_saver(facade, reference))
    async with app_client(session) as client:
        expire_all(app_portal)
        assert (await client.call("app.info")).result["ID"] == 1
    stored = await read_credentials(facade, reference)
    assert stored == session.credentials
    assert stored.tokens.access_token != creds.tokens.access_token

    save_credentials_sync(reference, creds, timeout=10)  # the command line's blocking twin
    assert (await read_credentials(facade, reference)).tokens == creds.tokens


async def test_a_connection_kept_for_this_run_only_is_renewed_in_memory(app_portal) -> None:
    facade = vault.Vault(timeout=10)
    reference = vault.new_reference()
    creds = await authorize(app_portal)
    facade.keep_for_this_run(reference, creds.to_keyring_text())
    session = OAuthSession(await read_credentials(facade, reference), save=keyring_saver(facade, reference))
    async with app_client(session) as client:
        expire_all(app_portal)
        await client.call("profile")
    assert (await read_credentials(facade, reference)) == session.credentials
    assert facade.is_session_only(reference)


def occurrences(files: list[Path], secrets: tuple[str, ...]) -> dict[str, list[str]]:
    found: dict[str, list[str]] = {}
    for path in files:
        data = path.read_bytes()
        hits = [s[:4] for s in secrets if s.encode() in data or json.dumps(s).strip('"').encode() in data]
        if hits:
            found[str(path)] = hits
    return found


@pytest.mark.real_keyring
async def test_no_token_or_client_secret_reaches_any_file(app_portal, app_home: Path, reference: str) -> None:
    from b24explorer.core import history, paths, settings
    from b24explorer.core.export import save_response
    from b24explorer.core.history import scrub_body

    sb = app_portal
    facade = vault.Vault(timeout=10)
    creds = await authorize(sb)
    await save_credentials(facade, reference, creds)
    session = OAuthSession(creds, save=keyring_saver(facade, reference))
    stale = OAuthSession(creds)  # a second holder of the first pair: its refresh is refused
    log_file = paths.log_dir(create=True) / "session.log"
    store = history.HistoryStore()
    async with app_client(session) as client, app_client(stale, log=client.log) as late:
        client.log.subscribe(lambda r: log_file.open("a").write(f"{r.format_line()} {r.context!r}\n"))
        outcomes: list[object] = []
        outcomes.append(await client.call("app.info"))
        outcomes.append(await client.call("crm.deal.add", {"fields": {"TITLE": f"pasted {creds.tokens.access_token}",
                                                                      "COMMENTS": creds.app.client_secret}}))
        expire_all(sb)
        outcomes.append(await client.batch({"me": ["profile", {}], "opt": ["app.option.get", {}]}))
        outcomes.append(await client.call_list("crm.deal.list", {"select": ["ID", "TITLE"]}))
        outcomes.append(await client.call("crm.deal.get", {"id": outcomes[1].result}))  # type: ignore[attr-defined]
        try:
            await late.call("profile")
        except AjaxError as refused:
            outcomes.append(refused)
        assert session.refreshes == 1
        for outcome in outcomes:
            params = getattr(outcome, "params", None) or {"auth": creds.tokens.access_token}
            answer = getattr(outcome, "response", outcome)
            recorded = RequestOutcome("conn-app", "App on sandbox", RequestKind.CALL,
                                      getattr(outcome, "method", None) or "batch", 2, params)
            if isinstance(answer, BaseException):
                recorded.failed(answer, 0.0)
            else:
                recorded.answered(answer, 0.0)
            await store.arecord_outcome(recorded, session.secrets)
        raw = bytes(outcomes[4].raw)  # type: ignore[attr-defined]
        assert creds.tokens.access_token.encode() in raw  # the answer carries a pasted token: a scan could fail
        save_response(paths.cache_dir(create=True) / "answer.json", scrub_body(raw, session.secrets))
    store.close()
    prefs_store = settings.SettingsStore()
    prefs = await prefs_store.aload()
    prefs.remember_request(None, "crm.deal.add", json.dumps({"auth": session.access_token}))
    await prefs_store.asave(prefs)

    secrets = (*session.secrets, *stale.secrets)
    assert creds.app.client_secret in secrets
    assert (await read_credentials(facade, reference)).tokens.access_token == session.access_token
    files = [p for d in paths.all_app_dirs() if d.exists() for p in d.rglob("*") if p.is_file()]
    assert len(files) >= 3
    assert log_file.stat().st_size > 0
    assert occurrences(files, secrets) == {}
