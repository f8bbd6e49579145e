"""The application side of the sandbox: one registered local application, the portal's authorize page and the
OAuth server's token endpoint (both served by the sandbox itself), and the tokens they issue.

- ``GET /oauth/authorize/?client_id=…&state=…&redirect_uri=…`` approves at once for the seeded admin (user 1)
  and redirects (302) to `redirect_uri` with ``code``, ``state``, ``domain``, ``member_id``, ``scope`` and
  ``server_domain``, as a portal does after the user signs in; only loopback redirect addresses are accepted.
- ``GET|POST /oauth/token/`` with ``grant_type=authorization_code`` (``code``) or ``refresh_token``
  (``refresh_token``), plus ``client_id`` and ``client_secret``: the documented token answer, or the documented
  ``error``/``error_description`` pair (``invalid_request``, ``invalid_client``, ``invalid_grant``).
- A call with an access token past its expiry answers ``expired_token`` (401); the control call
  ``POST <control>oauth/expire`` makes every issued access token stale at once.

Each token request is counted as a request of "oauth/token:<grant_type>" in the portal's counters.
"""

from __future__ import annotations

import secrets
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit

from .registry import ApiError

ACCESS_LIFETIME = 3600  # seconds, as the docs say
REFRESH_LIFETIME = 180 * 24 * 3600
CODE_LIFETIME = 30
ADMIN_USER = 1
APP_STATUS = "L"  # a local application, as app.info's STATUS says


@dataclass
class App:
    """The local application registered on the sandbox portal, and what it has bound there."""

    app_id: int
    client_id: str
    client_secret: str
    code: str
    version: int = 1
    options: dict[str, Any] = field(default_factory=dict)
    events: list[dict[str, Any]] = field(default_factory=list)
    placements: list[dict[str, Any]] = field(default_factory=list)
    application_token: str = field(default_factory=lambda: secrets.token_hex(16))  # signs its event payloads


@dataclass(frozen=True)
class AppHook:
    """Who an app's call runs as: the same fields the portal reads from a webhook, plus the application."""

    user_id: int
    secret: str  # a stable key for limits (not a credential): one per app and user
    scopes: frozenset[str] | None
    app: App


@dataclass
class _Grant:
    app: App
    user_id: int
    access_token: str
    refresh_token: str
    access_expires: float
    refresh_expires: float


@dataclass
class Answer:
    """What an OAuth endpoint answers: a JSON document, or a redirect, or an HTML error page."""

    status: int
    document: dict[str, Any] | None = None
    location: str | None = None
    page: str | None = None


def is_loopback_url(url: str) -> bool:
    try:
        parts = urlsplit(url)
        host = (parts.hostname or "").lower()
    except ValueError:
        return False
    return parts.scheme in ("http", "https") and (host in ("localhost", "::1") or host.startswith("127."))


class OAuthServer:
    def __init__(self, clock: Callable[[], float], count: Callable[[str], None], member_id: str) -> None:
        self.clock = clock
        self._count = count
        self.member_id = member_id
        self._lock = threading.Lock()
        self.app = App(app_id=1, client_id=f"local.{secrets.token_hex(7)}.{secrets.randbelow(10**8):08d}",
                       client_secret=secrets.token_urlsafe(36), code="local.sandbox")
        self._codes: dict[str, tuple[App, int, float]] = {}
        self._by_access: dict[str, _Grant] = {}
        self._by_refresh: dict[str, _Grant] = {}

    # --- the portal's authorize page -------------------------------------------------------------------------

    def authorize(self, params: dict[str, str], host: str) -> Answer:
        client_id = params.get("client_id", "")
        if client_id != self.app.client_id:
            return Answer(400, page="The application was not found on this portal (unknown client_id).")
        redirect_uri = params.get("redirect_uri", "")
        if not redirect_uri:
            return Answer(400, page="The application has no handler URL: pass redirect_uri (a loopback address).")
        if not is_loopback_url(redirect_uri):
            return Answer(400, page="The sandbox redirects only to loopback addresses.")
        code = secrets.token_hex(16)
        with self._lock:
            self._codes[code] = (self.app, ADMIN_USER, self.clock() + CODE_LIFETIME)
        query = urlencode({"code": code, "state": params.get("state", ""), "domain": host,
                           "member_id": self.member_id, "scope": ",".join(self.scopes()), "server_domain": host})
        return Answer(302, location=f"{redirect_uri}{'&' if '?' in redirect_uri else '?'}{query}")

    # --- the OAuth server's token endpoint -------------------------------------------------------------------

    def token(self, params: dict[str, str], host: str, scheme: str = "http") -> Answer:
        grant_type = params.get("grant_type", "")
        self._count(f"oauth/token:{grant_type or '-'}")
        if grant_type not in ("authorization_code", "refresh_token"):
            return _refusal(400, "invalid_request", "Unsupported grant_type")
        if params.get("client_id") != self.app.client_id or params.get("client_secret") != self.app.client_secret:
            return _refusal(401, "invalid_client", "Invalid client credentials")
        now = self.clock()
        with self._lock:
            if grant_type == "authorization_code":
                held = self._codes.pop(params.get("code", ""), None)
                if held is None or held[2] < now:
                    return _refusal(400, "invalid_grant", "Invalid authorization code")
                app, user_id = held[0], held[1]
            else:
                old = self._by_refresh.pop(params.get("refresh_token", ""), None)
                if old is None or old.refresh_expires < now:
                    return _refusal(400, "invalid_grant", "Invalid refresh token")
                app, user_id = old.app, old.user_id
            grant = self._grant(app, user_id, now)
        return Answer(200, document=self._token_set(grant, host, scheme))

    def event_auth(self, app: App, user_id: int, host: str, scheme: str = "http") -> dict[str, Any]:
        """The `auth` block of an event payload: a fresh token pair for the handler to call back with."""
        with self._lock:
            grant = self._grant(app, user_id, self.clock())
        document = self._token_set(grant, host, scheme)
        return {key: str(document[key]) for key in ("access_token", "expires", "expires_in", "scope", "domain",
                                                     "server_endpoint", "status", "client_endpoint", "member_id",
                                                     "user_id", "refresh_token")}

    def _grant(self, app: App, user_id: int, now: float) -> _Grant:
        grant = _Grant(app, user_id, secrets.token_hex(16), secrets.token_hex(16), now + ACCESS_LIFETIME,
                       now + REFRESH_LIFETIME)
        self._by_access[grant.access_token] = grant
        self._by_refresh[grant.refresh_token] = grant
        return grant

    def _token_set(self, grant: _Grant, host: str, scheme: str) -> dict[str, Any]:
        base = f"{scheme}://{host}"
        return {
            "access_token": grant.access_token, "expires": int(grant.access_expires),
            "expires_in": ACCESS_LIFETIME, "scope": ",".join(self.scopes()), "domain": host,
            "server_endpoint": f"{base}/rest/", "status": APP_STATUS, "client_endpoint": f"{base}/rest/",
            "member_id": self.member_id, "user_id": grant.user_id, "refresh_token": grant.refresh_token,
        }

    # --- calls ------------------------------------------------------------------------------------------------

    def identity(self, token: str) -> AppHook | None:
        """Who a call with this access token runs as; None for a token this server never issued.

        Raises ApiError(401, expired_token) for a token past its expiry.
        """
        with self._lock:
            grant = self._by_access.get(token)
            if grant is None:
                return None
            if grant.access_expires <= self.clock():
                raise ApiError(401, "expired_token", "The access token provided has expired.")
            return AppHook(grant.user_id, f"app:{grant.app.client_id}:{grant.user_id}", None, grant.app)

    def expire_all(self) -> int:
        """Every access token issued so far stops working now; how many there were."""
        with self._lock:
            past = self.clock() - 1
            for grant in self._by_access.values():
                grant.access_expires = min(grant.access_expires, past)
            return len(self._by_access)

    def scopes(self) -> list[str]:
        from .registry import V2, V3

        return sorted({s.scope for s in (*V2.values(), *V3.values()) if s.scope})

    def describe(self) -> dict[str, Any]:
        """The app's keys, for the control API and the `b24x sandbox` banner."""
        return {"client_id": self.app.client_id, "client_secret": self.app.client_secret,
                "application_token": self.app.application_token, "issued": len(self._by_access)}


def _refusal(status: int, code: str, description: str) -> Answer:
    return Answer(status, document={"error": code, "error_description": description})


def handle_http(server: OAuthServer, route: list[str], query: str, headers: dict[str, str], body: bytes) -> Answer:
    """`/oauth/authorize/` and `/oauth/token/` (parameters from the query string and a form body)."""
    params = dict(parse_qsl(query, keep_blank_values=True))
    if body and "json" not in headers.get("content-type", "").lower():
        params.update(parse_qsl(body.decode("utf-8", errors="replace"), keep_blank_values=True))
    host = headers.get("host", "127.0.0.1")
    if route == ["authorize"]:
        return server.authorize(params, host)
    if route == ["token"]:
        return server.token(params, host)
    return Answer(404, document={"error": "invalid_request", "error_description": "Unknown OAuth route"})
