"""`b24x events` on the sandbox through an app connection (`--profile`): bind offline, a deal written through the
API, `pull --json` shows it with the deal's id, `--keep` keeps it, a plain pull clears it, unbind; a webhook gets
the portal's error; `listen` shows an online event with its `auth` block masked; no secret in any output or file."""

from __future__ import annotations

import asyncio
import io
import json
import threading
import time
from pathlib import Path

from cli_helpers import b24x
from keyring_backends import MemoryKeyring
from oauth_helpers import app_client, authorize

from b24explorer.cli import Environment, main
from b24explorer.core.events import EventsService
from b24explorer.core.oauth import OAuthCredentials, OAuthSession
from b24explorer.sandbox import Sandbox


def add_app_profile(sb: Sandbox) -> OAuthCredentials:
    """`b24x connection add App --oauth --paste-tokens`, with a pair the app got from the portal."""
    credentials = asyncio.run(authorize(sb))
    secret, tokens = sb.portal.oauth.app.client_secret, credentials.tokens
    code, _, err = b24x("connection", "add", "App", "--oauth", "--portal", sb.base_url, "--client-id",
                        sb.portal.oauth.app.client_id, "--oauth-server", f"{sb.base_url}/oauth/token/",
                        "--paste-tokens", stdin=f"{secret}\n{tokens.access_token}\n{tokens.refresh_token}\n")
    assert code == 0, err
    return credentials


def records(out: str) -> list[dict]:
    return [json.loads(line) for line in out.splitlines()]


def test_bind_write_pull_keep_clear_and_unbind(app_portal: Sandbox, memory_keyring: MemoryKeyring,
                                               app_home: Path) -> None:
    sb = app_portal
    credentials = add_app_profile(sb)
    outputs: list[str] = []

    def run(*argv: str) -> tuple[int, str, str]:
        code, out, err = b24x(*argv)
        outputs.extend((out, err))
        return code, out, err

    code, _, err = run("events", "bind", "ONCRMDEALADD", "OnCrmDealUpdate", "--offline", "--profile", "App")
    assert code == 0, err
    assert "ONCRMDEALADD: bound" in err
    assert "ONCRMDEALUPDATE: bound" in err

    code, out, err = run("call", "crm.deal.add", "--profile", "App", "--params", '{"fields": {"TITLE": "Event"}}')
    assert code == 0, err
    deal = json.loads(out)["result"]
    run("call", "crm.deal.update", "--profile", "App", "--params", json.dumps({"id": deal, "fields": {"TITLE": "a"}}))
    run("call", "crm.deal.update", "--profile", "App", "--params", json.dumps({"id": deal, "fields": {"TITLE": "b"}}))

    code, out, err = run("events", "pull", "--profile", "App", "--keep", "--json")
    assert code == 0, err
    kept = records(out)
    # two updates, one record (the last change); newest first
    assert [(r["event"], r["object_id"]) for r in kept] == [("ONCRMDEALUPDATE", deal), ("ONCRMDEALADD", deal)]
    assert all(r["message_id"] and r["time"] for r in kept)
    assert kept[1]["data"] == {"FIELDS": {"ID": deal}}
    assert "2 records kept in the queue" in err

    code, out, _ = run("events", "pull", "--profile", "App", "--keep", "--json")
    assert [r["message_id"] for r in records(out)] == [r["message_id"] for r in kept]  # --keep kept them

    code, out, err = run("events", "pull", "--profile", "App", "--json")
    assert code == 0, err
    assert [(r["event"], r["object_id"]) for r in records(out)] == [("ONCRMDEALUPDATE", deal), ("ONCRMDEALADD", deal)]
    assert "cleared from the queue" in err
    code, out, _ = run("events", "pull", "--profile", "App", "--json")
    assert (code, out) == (0, "")  # taken means gone

    code, _, err = run("events", "unbind", "ONCRMDEALADD", "ONCRMDEALUPDATE", "--profile", "App")
    assert code == 0, err
    assert "ONCRMDEALADD: 1 binding removed" in err
    run("call", "crm.deal.add", "--profile", "App", "--params", '{"fields": {"TITLE": "Unbound"}}')
    code, out, _ = run("events", "pull", "--profile", "App")
    assert (code, out) == (0, "")

    stored = OAuthCredentials.from_keyring_text(next(iter(memory_keyring.items.values())))
    secrets = {credentials.tokens.access_token, credentials.tokens.refresh_token, stored.tokens.access_token,
               stored.tokens.refresh_token, sb.portal.oauth.app.client_secret}
    text = "".join(outputs)
    assert not [s[:4] for s in secrets if s in text]
    written = [p for p in app_home.rglob("*") if p.is_file()]
    assert any(p.name.endswith(".sqlite3") for p in written)  # the calls were recorded: scanned too
    assert {str(p): [s[:4] for s in secrets if s.encode() in p.read_bytes()] for p in written
            if any(s.encode() in p.read_bytes() for s in secrets)} == {}


def test_a_webhook_gets_the_portals_error_and_a_note(app_portal: Sandbox, memory_keyring: MemoryKeyring) -> None:
    code, out, err = b24x("events", "pull", "--webhook", app_portal.webhook_url, "--json")
    assert code == 1
    assert json.loads(out)["error"]
    assert "application (OAuth) connection" in err
    assert app_portal.webhook_url.rsplit("/", 2)[-2] not in out + err  # the webhook's secret


def test_bad_event_names_and_missing_action_send_nothing(memory_keyring: MemoryKeyring) -> None:
    assert b24x("events", "bind", "not an event", "--profile", "App")[0] == 2
    code, _, err = b24x("events")
    assert code == 2
    assert "bind, unbind, pull or listen" in err
    code, _, err = b24x("events", "pull")
    assert code == 2
    assert "--profile" in err


def test_listen_shows_an_online_event_with_auth_masked(app_portal: Sandbox, memory_keyring: MemoryKeyring) -> None:
    sb = app_portal
    token = sb.portal.oauth.app.application_token
    env = Environment(stdin=io.StringIO(), stdout=io.StringIO(), stderr=io.StringIO(),
                      environ={"B24X_APPLICATION_TOKEN": token})
    status: list[int] = []
    thread = threading.Thread(target=lambda: status.append(main(["events", "listen", "--port", "0", "--count", "1",
                                                                 "--json"], env)))
    thread.start()
    deadline = time.monotonic() + 10
    while "listening for events at" not in env.stderr.getvalue() and time.monotonic() < deadline:
        time.sleep(0.02)
    url = env.stderr.getvalue().split("listening for events at ", 1)[1].split()[0]

    async def fire() -> int:
        credentials = await authorize(sb)
        async with app_client(OAuthSession(credentials)) as client:
            await EventsService(client).bind(["ONCRMDEALADD"], offline=False, handler=url)
            return int((await client.call("crm.deal.add", {"fields": {"TITLE": "Online"}})).result)

    deal = asyncio.run(fire())
    thread.join(15)
    assert status == [0]
    [event] = records(env.stdout.getvalue())
    assert (event["event"], event["object_id"], event["verdict"]) == ("ONCRMDEALADD", deal, "accepted")
    assert set(event["payload"]["auth"]) >= {"access_token", "refresh_token", "application_token", "member_id"}
    issued = list(sb.portal.oauth._by_access.values())  # every token pair the portal handed out
    text = env.stdout.getvalue() + env.stderr.getvalue()
    for secret in [token, *(g.access_token for g in issued), *(g.refresh_token for g in issued)]:
        assert secret not in text
    assert "1 event received" in env.stderr.getvalue()
