"""TLS for on-premise portals: a portal signed by a company CA (made here with the openssl tool) works with that CA
as the connection's CA file, fails without it with an error naming the host, the issuer and what to do (never by
turning verification off), and the environment's proxy settings are honoured."""

from __future__ import annotations

import http.server
import threading
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from tls_portal import ISSUER, OPENSSL, make_pki, serve_portal

from b24explorer.core import AjaxError, B24Client, LimitsConfig, SdkError
from b24explorer.core.oauth import OAuthApp, OAuthError, exchange_code
from b24explorer.core.tls import issuer_from_der, tls_context

pytestmark = pytest.mark.skipif(OPENSSL is None, reason="needs the openssl command to make a test CA")


@pytest.fixture(scope="module")
def pki(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    return make_pki(tmp_path_factory.mktemp("pki"))


@pytest.fixture(scope="module")
def tls_portal(pki: dict[str, Path]) -> Iterator[Any]:
    with serve_portal(pki) as server:
        yield server


def webhook(server: Any) -> str:
    return f"https://127.0.0.1:{server.server_address[1]}/rest/1/tlswebhooksecret99/"


async def test_the_company_ca_as_the_connections_ca_file_works(tls_portal: Any, pki: dict[str, Path]) -> None:
    async with B24Client(webhook(tls_portal), ca_file=str(pki["ca"]), limits=LimitsConfig.unlimited()) as client:
        assert (await client.call("profile")).result == {"ID": "1"}


async def test_an_untrusted_certificate_names_host_issuer_and_what_to_do(tls_portal: Any) -> None:
    async with B24Client(webhook(tls_portal), limits=LimitsConfig.unlimited()) as client:
        with pytest.raises(AjaxError) as caught:
            await client.call("profile")
        assert client.retries == 0  # a certificate does not change by asking again
    err = caught.value
    assert err.code == "TLS_CERTIFICATE_UNTRUSTED"
    assert "127.0.0.1" in err.message
    assert ISSUER in err.message
    assert "CA file" in err.message
    assert "trust store" in err.message
    assert "tlswebhooksecret99" not in str(err)


async def test_a_ca_file_of_another_ca_is_named_in_the_error(tls_portal: Any, pki: dict[str, Path]) -> None:
    async with B24Client(webhook(tls_portal), ca_file=str(pki["other"]), limits=LimitsConfig.unlimited()) as client:
        with pytest.raises(AjaxError) as caught:
            await client.call("profile")
    assert f"nor by the CA file {pki['other']}" in caught.value.message


def test_a_ca_file_that_is_missing_or_not_pem_is_refused_up_front(tmp_path: Path) -> None:
    with pytest.raises(SdkError) as missing:
        B24Client("https://portal.example.com/rest/1/abcdefgh12/", ca_file=str(tmp_path / "nope.pem"))
    assert missing.value.code == "TLS_CA_FILE_INVALID"
    junk = tmp_path / "junk.pem"
    junk.write_text("not a certificate")
    with pytest.raises(SdkError) as not_pem:
        tls_context(junk)
    assert "BEGIN CERTIFICATE" in not_pem.value.message


def test_the_issuer_is_read_from_the_certificate(pki: dict[str, Path]) -> None:
    assert issuer_from_der(pki["der"].read_bytes()) == ISSUER
    assert issuer_from_der(b"\x30\x03\x02") == ""


async def test_the_oauth_server_is_verified_the_same_way(tls_portal: Any, pki: dict[str, Path]) -> None:
    app = OAuthApp("app.1", "tls-client-secret", f"https://127.0.0.1:{tls_portal.server_address[1]}/oauth/token/")
    with pytest.raises(OAuthError) as caught:
        await exchange_code(app, "code-1")
    assert caught.value.code == "TLS_CERTIFICATE_UNTRUSTED"
    assert ISSUER in caught.value.message
    tokens = await exchange_code(app, "code-1", verify=tls_context(pki["ca"]))
    assert tokens.access_token == "tls-access-1234"


class _RecordingProxy(http.server.BaseHTTPRequestHandler):
    """A plain-HTTP forward proxy that remembers what it forwarded."""

    protocol_version = "HTTP/1.1"

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        self.server.forwarded.append(self.path)  # type: ignore[attr-defined]
        request = urllib.request.Request(self.path, data=body, method="POST",
                                         headers={"Content-Type": "application/json"})
        opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
        with opener.open(request, timeout=10) as answer:
            data, status = answer.read(), answer.status
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, *args: Any) -> None:
        return


async def test_the_environments_proxy_is_used(sb: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    proxy = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _RecordingProxy)
    proxy.forwarded = []  # type: ignore[attr-defined]
    threading.Thread(target=proxy.serve_forever, daemon=True).start()
    try:
        for name in ("NO_PROXY", "no_proxy", "ALL_PROXY", "all_proxy", "http_proxy"):
            monkeypatch.delenv(name, raising=False)
        monkeypatch.setenv("HTTP_PROXY", f"http://127.0.0.1:{proxy.server_address[1]}")
        async with B24Client(sb.webhook_url, limits=LimitsConfig.unlimited()) as client:
            assert (await client.call("profile")).result["ID"] == "1"
        forwarded = [url.split("?", 1)[0] for url in proxy.forwarded]  # type: ignore[attr-defined]
        assert f"{sb.webhook_url}profile" in forwarded  # (with the one-time look-up of the portal's v3 methods)
    finally:
        proxy.shutdown()
        proxy.server_close()
