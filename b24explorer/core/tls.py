"""TLS for every connection: the OS trust store, an optional CA file, and certificate errors a user can act on.

Certificates are checked against the operating system's trust store (``truststore``), so a self-hosted portal
signed by a company CA that IT installed on the machine just works. A connection may add a CA file (PEM) of its
own. Verification is never turned off: a certificate that does not verify becomes an error naming the host, the
certificate's issuer and what to do.
"""

from __future__ import annotations

import functools
import os
import socket
import ssl
from dataclasses import dataclass

from .errors import SdkError

TLS_CA_FILE_INVALID = "TLS_CA_FILE_INVALID"
TLS_CERTIFICATE_UNTRUSTED = "TLS_CERTIFICATE_UNTRUSTED"
_PROBE_TIMEOUT = 3.0


def tls_context(ca_file: str | os.PathLike[str] | None = None) -> ssl.SSLContext:
    """A verifying client context over the OS trust store, plus `ca_file` (PEM) when given.

    Contexts are shared per CA file (and its modification time): loading the trust store costs tens of
    milliseconds, too much for every client. Raises SdkError(TLS_CA_FILE_INVALID) for a CA file that cannot be
    read or holds no certificate.
    """
    if ca_file is None or str(ca_file) == "":
        return _context(None, 0.0)
    path = os.path.abspath(os.fspath(ca_file))
    try:
        mtime = os.stat(path).st_mtime
    except OSError as exc:
        raise SdkError(
            TLS_CA_FILE_INVALID,
            f"The CA file {path} cannot be read ({exc.strerror or exc}). Choose an existing PEM file with the "
            "certificate of the CA that signed the portal's certificate.",
            400,
        ) from None
    return _context(path, mtime)


@functools.cache
def _context(path: str | None, mtime: float) -> ssl.SSLContext:
    import truststore  # here: the window's start imports core before any connection needs TLS

    context = truststore.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    if path is not None:
        try:
            context.load_verify_locations(cafile=path)
        except (ssl.SSLError, OSError, ValueError) as exc:
            raise SdkError(
                TLS_CA_FILE_INVALID,
                f"The CA file {path} holds no usable certificate ({exc}). It must be PEM text starting with "
                "'-----BEGIN CERTIFICATE-----'.",
                400,
            ) from None
    return context


def certificate_failure(exc: BaseException) -> ssl.SSLCertVerificationError | None:
    """The certificate-verification failure behind a transport error, if that is what it was."""
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        if isinstance(current, ssl.SSLCertVerificationError):
            return current
        if isinstance(current, ssl.SSLError) and "CERTIFICATE_VERIFY_FAILED" in str(current):
            return ssl.SSLCertVerificationError(str(current))
        for arg in getattr(current, "args", ()):
            if isinstance(arg, ssl.SSLCertVerificationError):
                return arg
        current = current.__cause__ or current.__context__
    return None


@dataclass(frozen=True)
class CertificateProblem:
    host: str
    reason: str  # OpenSSL's (or the OS's) words: "unable to get local issuer certificate", …
    issuer: str  # "CN=Company Root CA, O=Company" or "" when it could not be read

    def message(self, ca_file: str | None = None) -> str:
        issued = f" issued by {self.issuer}" if self.issuer else ""
        where = f" nor by the CA file {ca_file}" if ca_file else ""
        return (
            f"The TLS certificate of {self.host}{issued} is not trusted by this computer{where} ({self.reason}). "
            f"If {self.host} is a self-hosted portal signed by your company's CA, install that CA certificate in "
            "the system's trust store, or give this connection a CA file (PEM) with it. Verification is never "
            "turned off; a certificate you cannot explain may mean the connection is being intercepted."
        )

    def error(self, ca_file: str | None = None) -> SdkError:
        return SdkError(TLS_CERTIFICATE_UNTRUSTED, self.message(ca_file), 0)


def describe_certificate_failure(failure: ssl.SSLCertVerificationError, host: str, port: int) -> CertificateProblem:
    """What went wrong with `host`'s certificate, with the issuer read from a second, unverified handshake.

    Blocking (a short connection of its own): run it in a worker thread. The second handshake only reads the
    certificate; nothing is sent over it.
    """
    reason = getattr(failure, "verify_message", None) or str(failure) or "certificate verify failed"
    return CertificateProblem(host=host, reason=str(reason), issuer=peer_issuer(host, port))


def peer_issuer(host: str, port: int, timeout: float = _PROBE_TIMEOUT) -> str:
    """The issuer of the certificate `host:port` presents ("" when it cannot be fetched)."""
    probe = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    probe.check_hostname = False
    probe.verify_mode = ssl.CERT_NONE  # this handshake only reads the issuer's name for the error message
    try:
        with (socket.create_connection((host, port), timeout=timeout) as raw,
              probe.wrap_socket(raw, server_hostname=host) as tls):
            der = tls.getpeercert(binary_form=True)
    except (OSError, ValueError):
        return ""
    return issuer_from_der(der) if der else ""


_NAMES = {b"\x55\x04\x03": "CN", b"\x55\x04\x0a": "O", b"\x55\x04\x0b": "OU", b"\x55\x04\x06": "C"}


def _tlv(data: bytes, at: int) -> tuple[int, bytes, int]:
    """One DER element at `at`: (tag, content, index after it)."""
    tag, length = data[at], data[at + 1]
    at += 2
    if length & 0x80:
        size = length & 0x7F
        length = int.from_bytes(data[at : at + size], "big")
        at += size
    return tag, data[at : at + length], at + length


def issuer_from_der(der: bytes) -> str:
    """The issuer's CN/O/OU/C of a DER certificate, "CN=…, O=…" ("" when it cannot be read)."""
    try:
        _, certificate, _ = _tlv(der, 0)
        _, tbs, _ = _tlv(certificate, 0)
        at = 0
        tag, _, at = _tlv(tbs, at)
        if tag == 0xA0:  # explicit version; the serial number follows
            tag, _, at = _tlv(tbs, at)
        _, _, at = _tlv(tbs, at)  # signature algorithm
        _, issuer, _ = _tlv(tbs, at)
        parts: list[str] = []
        at = 0
        while at < len(issuer):
            _, rdn, at = _tlv(issuer, at)
            _, pair, _ = _tlv(rdn, 0)
            _, oid, after = _tlv(pair, 0)
            _, value, _ = _tlv(pair, after)
            if oid in _NAMES:
                parts.append(f"{_NAMES[oid]}={value.decode('utf-8', errors='replace')}")
        order = list(_NAMES.values())  # the common name first: it is what a user recognises
        return ", ".join(sorted(parts, key=lambda part: order.index(part.split("=", 1)[0])))
    except (IndexError, ValueError):
        return ""
