"""`b24x connection add --oauth`: pasted tokens from stdin, where the client secret may come from, and the bad
input that saves nothing."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import pytest
from cli_helpers import b24x
from keyring_backends import MemoryKeyring
from oauth_helpers import authorize
from tls_portal import OPENSSL, make_pki, serve_portal

from b24explorer.core.oauth import OAuthCredentials
from b24explorer.sandbox import Sandbox


def app_args(sb: Sandbox, *extra: str) -> list[str]:
    return ["connection", "add", "Pasted", "--oauth", "--portal", sb.base_url, "--client-id",
            sb.portal.oauth.app.client_id, "--oauth-server", f"{sb.base_url}/oauth/token/", *extra]


def test_pasted_tokens_from_stdin_make_a_working_app_connection(app_portal: Sandbox,
                                                                memory_keyring: MemoryKeyring) -> None:
    sb = app_portal
    elsewhere = asyncio.run(authorize(sb))
    secret, tokens = sb.portal.oauth.app.client_secret, elsewhere.tokens
    code, out, err = b24x(*app_args(sb, "--paste-tokens"),
                          stdin=f"{secret}\n{tokens.access_token}\n{tokens.refresh_token}\n")
    assert code == 0, err
    ref = out.strip()
    [(_service, stored_ref)] = memory_keyring.items
    assert stored_ref == ref
    stored = OAuthCredentials.from_keyring_text(memory_keyring.items[(_service, ref)])
    assert (stored.tokens.access_token, stored.app.client_secret) == (tokens.access_token, secret)

    code, out, err = b24x("call", "app.option.set", "--profile", "Pasted", "--params", '{"options": {"k": "v"}}')
    assert code == 0, err
    code, out, _ = b24x("call", "app.option.get", "--profile", "Pasted", "--params", '{"option": "k"}')
    assert json.loads(out)["result"] == "v"
    code, out, _ = b24x("export", "--as", "python", "app.info", "--profile", "Pasted")
    assert code == 0
    assert "B24_ACCESS_TOKEN" in out
    assert f"{sb.base_url}/rest" in out
    assert tokens.access_token not in out
    assert secret not in out


def test_the_client_secret_argument_works_with_a_warning(app_portal: Sandbox, memory_keyring: MemoryKeyring) -> None:
    sb = app_portal
    tokens = asyncio.run(authorize(sb)).tokens
    code, _, err = b24x(*app_args(sb, "--paste-tokens", "--client-secret", sb.portal.oauth.app.client_secret),
                        environ={"B24X_ACCESS_TOKEN": tokens.access_token, "B24X_REFRESH_TOKEN": tokens.refresh_token})
    assert code == 0, err
    assert "shell's history" in err
    assert sb.portal.oauth.app.client_secret not in err


@pytest.mark.parametrize(("argv", "said"), [
    (["--portal", "https://p.example"], "need --oauth"),
    (["--oauth", "--client-id", "app.1"], "--portal URL and --client-id"),
    (["--oauth", "--portal", "http://p.example", "--client-id", "app.1"], "https"),
    (["--oauth", "--portal", "https://p.example", "--client-id", "app.1", "--paste-tokens"], "client secret"),
    (["--ca-file", "missing.pem"], "CA file"),
])
def test_bad_input_saves_nothing(memory_keyring: MemoryKeyring, argv: list[str], said: str) -> None:
    code, out, err = b24x("connection", "add", "X", *argv)
    assert (code, out) == (2, "")
    assert said.lower() in err.lower()
    assert memory_keyring.items == {}


@pytest.mark.skipif(OPENSSL is None, reason="needs the openssl command to make a test CA")
def test_a_ca_file_is_kept_per_connection(memory_keyring: MemoryKeyring, tmp_path: Path) -> None:
    pki = make_pki(tmp_path)
    not_pem = tmp_path / "notes.txt"
    not_pem.write_text("not a certificate")
    with serve_portal(pki) as server:
        url = f"https://127.0.0.1:{server.server_address[1]}/rest/1/onpremsecret42/"
        code, _, err = b24x("connection", "add", "OnPrem", "--ca-file", str(not_pem), stdin=url + "\n")
        assert code == 2
        assert "CA file" in err
        assert b24x("connection", "add", "OnPrem", stdin=url + "\n")[0] == 0
        code, out, _ = b24x("call", "profile", "--profile", "OnPrem")
        assert code == 1
        assert json.loads(out)["error"] == "TLS_CERTIFICATE_UNTRUSTED"
        assert b24x("connection", "ca-file", "OnPrem", str(not_pem))[0] == 2
        assert b24x("connection", "ca-file", "OnPrem", str(pki["ca"]))[0] == 0
        assert json.loads(b24x("connection", "list", "--json")[1])["ca_file"] == str(pki["ca"])
        code, out, err = b24x("call", "profile", "--profile", "OnPrem")
        assert code == 0, err
        assert json.loads(out)["result"] == {"ID": "1"}
