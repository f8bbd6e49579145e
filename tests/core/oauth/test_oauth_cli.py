"""`b24x connection add NAME --oauth …` end to end, as a user runs it: `b24x sandbox` in a process of its own, the
authorization without a browser (the printed AUTHORIZE URL fetched like a browser would), `--profile` calls, an
expiry through the sandbox's control call, a refresh that lands in the (real) keyring, and no secret in any file."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from b24explorer.core import vault
from b24explorer.core.oauth import OAuthCredentials


@dataclass
class SandboxProcess:
    base_url: str
    client_id: str
    client_secret: str
    oauth_server: str
    control_url: str


@pytest.fixture
def sandbox_process() -> Iterator[SandboxProcess]:
    proc = subprocess.Popen([sys.executable, "-m", "b24explorer.cli", "sandbox", "--deals", "50"],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        assert proc.stdout is not None
        assert proc.stderr is not None
        webhook = proc.stdout.readline().split()[1]
        oauth = dict(part.split("=", 1) for part in proc.stdout.readline().split()[1:])
        control = next(word for word in proc.stderr.readline().split() if "/_sandbox/" in word).rstrip(";")
        base = webhook.split("/rest/", 1)[0]
        yield SandboxProcess(base, oauth["client_id"], oauth["client_secret"], oauth["server"], control)
    finally:
        proc.terminate()
        proc.wait(10)


def b24x(*argv: str, env: dict[str, str], stdin: str = "") -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "b24explorer.cli", *argv], input=stdin, capture_output=True,
                          text=True, env=env, timeout=60)


def authorize_without_browser(argv: list[str], env: dict[str, str]) -> tuple[int, str, str]:
    """Runs `connection add … --no-browser` and opens the AUTHORIZE URL it prints, as a browser would."""
    proc = subprocess.Popen([sys.executable, "-m", "b24explorer.cli", *argv], stdin=subprocess.PIPE,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
    assert proc.stderr is not None
    assert proc.stdout is not None
    assert proc.stdin is not None
    proc.stdin.close()
    err_lines: list[str] = []
    page: list[httpx.Response] = []
    for line in proc.stderr:
        err_lines.append(line)
        if line.startswith("AUTHORIZE "):
            page.append(httpx.get(line.split()[1], follow_redirects=True, timeout=10))
            break
    rest = threading.Thread(target=lambda: err_lines.extend(proc.stderr))  # type: ignore[arg-type]
    rest.start()
    out = proc.stdout.read()
    code = proc.wait(30)
    rest.join(10)
    assert page
    assert page[0].status_code == 200
    assert "connected" in page[0].text
    return code, out, "".join(err_lines)


def files_under(root: Path) -> list[Path]:
    return [p for p in root.rglob("*") if p.is_file()]


@pytest.mark.real_keyring
def test_authorize_call_expire_and_refresh_through_the_profile(sandbox_process: SandboxProcess, tmp_path: Path,
                                                               ) -> None:
    sb = sandbox_process
    home = tmp_path / "home"
    env = {**os.environ, "B24X_HOME": str(home), "B24X_CLIENT_SECRET": sb.client_secret}
    code, out, err = authorize_without_browser(
        ["connection", "add", "App", "--oauth", "--portal", sb.base_url, "--client-id", sb.client_id,
         "--oauth-server", sb.oauth_server, "--no-browser", "--wait", "20"], env)
    assert code == 0, err
    ref = out.strip()
    assert "REDIRECT http://127.0.0.1:" in err
    try:
        first = OAuthCredentials.from_keyring_text(vault.read_webhook(ref, timeout=10))
        assert first.app.client_secret == sb.client_secret

        listed = [json.loads(line) for line in b24x("connection", "list", "--json", env=env).stdout.splitlines()]
        assert [(c["name"], c["auth"], c["id"]) for c in listed] == [("App", "oauth", ref)]

        info = b24x("call", "app.info", "--profile", "App", env=env)
        assert info.returncode == 0, info.stderr
        app_record = json.loads(info.stdout)["result"]
        assert (app_record["ID"], app_record["INSTALLED"]) == (1, True)  # the app's own record, not a webhook's

        httpx.post(f"{sb.control_url}oauth/expire", timeout=10).raise_for_status()
        again = b24x("call", "app.info", "--profile", "App", env=env)
        assert again.returncode == 0, again.stderr
        renewed = OAuthCredentials.from_keyring_text(vault.read_webhook(ref, timeout=10))
        assert renewed.tokens.access_token != first.tokens.access_token
        assert renewed.tokens.refresh_token != first.tokens.refresh_token

        # The renewed pair works on its own in a later run (the old refresh token is spent: no second refresh).
        third = b24x("call", "profile", "--profile", "App", env=env)
        assert third.returncode == 0, third.stderr
        assert OAuthCredentials.from_keyring_text(vault.read_webhook(ref, timeout=10)) == renewed

        listing = b24x("list", "crm.deal.list", "--profile", "App", "--params", '{"select": ["ID"]}', env=env)
        assert listing.returncode == 0, listing.stderr
        assert len(listing.stdout.splitlines()) == 50
        history = b24x("history", "--json", env=env)
        assert {json.loads(line)["connection"] for line in history.stdout.splitlines()} == {"App"}

        secrets = (sb.client_secret, first.tokens.access_token, first.tokens.refresh_token,
                   renewed.tokens.access_token, renewed.tokens.refresh_token)
        outputs = err + info.stdout + info.stderr + again.stdout + again.stderr + history.stdout
        assert not [s[:4] for s in secrets if s in outputs]
        written = files_under(home)
        assert any(p.name.endswith(".sqlite3") for p in written)
        assert any(p.name == "settings.json" for p in written)
        leaks = {str(p): [s[:4] for s in secrets if s.encode() in p.read_bytes()] for p in written}
        assert {p: hits for p, hits in leaks.items() if hits} == {}
    finally:
        assert b24x("connection", "remove", "App", env=env).returncode == 0
        with pytest.raises(vault.EntryMissingError):
            vault.read_webhook(ref, timeout=10)
