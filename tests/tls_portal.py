"""A self-hosted portal behind a company CA, for the TLS tests: a test PKI made with the openssl tool (a company
root CA, another CA, the portal's certificate for 127.0.0.1) and a loopback HTTPS server answering /rest/ calls
and the OAuth token endpoint."""

from __future__ import annotations

import contextlib
import http.server
import json
import shutil
import ssl
import subprocess
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

OPENSSL = shutil.which("openssl")
ISSUER = "CN=Example Corp Root CA, O=Example Corp"


def _openssl(*args: str, cwd: Path) -> None:
    subprocess.run([OPENSSL, *args], cwd=cwd, check=True, capture_output=True)  # type: ignore[list-item]


def make_ca(where: Path, name: str, org: str) -> Path:
    _openssl("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", f"{name}.key", "-out", f"{name}.pem",
             "-days", "2", "-subj", f"/O={org}/CN={name.replace('-', ' ')}",
             "-addext", "basicConstraints=critical,CA:TRUE", "-addext", "keyUsage=critical,keyCertSign,cRLSign",
             cwd=where)
    return where / f"{name}.pem"


def make_pki(where: Path) -> dict[str, Path]:
    """ca (the company's root), other (an unrelated CA), cert/key/der (the portal's, signed by ca)."""
    ca = make_ca(where, "Example-Corp-Root-CA", "Example Corp")
    other = make_ca(where, "Someone-Else-CA", "Someone Else")
    _openssl("req", "-newkey", "rsa:2048", "-nodes", "-keyout", "portal.key", "-out", "portal.csr",
             "-subj", "/CN=127.0.0.1", cwd=where)
    (where / "ext.cnf").write_text("subjectAltName=IP:127.0.0.1,DNS:localhost\nbasicConstraints=CA:FALSE\n"
                                   "keyUsage=critical,digitalSignature,keyEncipherment\nextendedKeyUsage=serverAuth\n"
                                   "authorityKeyIdentifier=keyid\nsubjectKeyIdentifier=hash\n")
    _openssl("x509", "-req", "-in", "portal.csr", "-CA", ca.name, "-CAkey", "Example-Corp-Root-CA.key",
             "-CAcreateserial", "-out", "portal.pem", "-days", "2", "-extfile", "ext.cnf", cwd=where)
    _openssl("x509", "-in", "portal.pem", "-outform", "der", "-out", "portal.der", cwd=where)
    return {"ca": ca, "other": other, "cert": where / "portal.pem", "key": where / "portal.key",
            "der": where / "portal.der"}


class _Portal(http.server.BaseHTTPRequestHandler):
    """A self-hosted portal's /rest/ answering every method with a small envelope (and an OAuth token answer)."""

    protocol_version = "HTTP/1.1"

    def do_GET(self) -> None:
        body = {"access_token": "tls-access-1234", "refresh_token": "tls-refresh-5678", "expires_in": 3600}
        if not self.path.startswith("/oauth/token/"):
            body = {"result": {"ID": "1"}, "time": {"start": 0, "finish": 0}}
        self.server.seen.append(self.path)  # type: ignore[attr-defined]
        data = json.dumps(body).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def do_POST(self) -> None:
        self.rfile.read(int(self.headers.get("Content-Length") or 0))
        self.do_GET()

    def log_message(self, *args: Any) -> None:
        return


@contextlib.contextmanager
def serve_portal(pki: dict[str, Path]) -> Iterator[Any]:
    """The portal on https://127.0.0.1:PORT with the certificate of `pki`; `server.seen` lists the paths asked."""
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Portal)
    server.seen = []  # type: ignore[attr-defined]
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(pki["cert"], pki["key"])
    server.socket = context.wrap_socket(server.socket, server_side=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield server
    finally:
        server.shutdown()
        server.server_close()
