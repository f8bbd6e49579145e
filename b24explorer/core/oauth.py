"""OAuth 2.0 applications: credentials, the authorization-code flow, token refresh.

An application connection is a portal, an app (client id and secret, the OAuth server) and a token set. The
whole of it lives in the OS keyring (see :mod:`.oauth_store`); everything shown elsewhere is masked.

The flow, as the portal's docs describe it:
1. open :func:`authorize_url` in a browser: the portal asks the user (or not, when already signed in) and
   redirects to the app's handler URL with ``code`` and ``state`` (:mod:`.oauth_redirect` listens for it);
2. :func:`exchange_code` trades the code at the OAuth server for a token set;
3. calls go to the portal's ``/rest/`` with ``auth=<access token>``; an ``expired_token`` answer (401) is
   followed by :meth:`OAuthSession.refresh` and the call is re-sent.
"""

from __future__ import annotations

import asyncio
import json
import secrets
import ssl
import time
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field, replace
from typing import Any
from urllib.parse import urlencode, urlsplit

import httpx

from .errors import AjaxError, SdkError
from .redact import mask_secret, mask_secrets
from .tls import TLS_CERTIFICATE_UNTRUSTED, certificate_failure, describe_certificate_failure, tls_context
from .webhook import is_loopback_host

DEFAULT_OAUTH_SERVER = "https://oauth.bitrix.info/oauth/token/"
EXPIRED_TOKEN = "expired_token"
OAUTH_INVALID = "OAUTH_INVALID"
OAUTH_REFRESH_REFUSED = "OAUTH_REFRESH_REFUSED"
OAUTH_SERVER_FAILED = "OAUTH_SERVER_FAILED"
_KEYRING_KIND = "oauth"
_KEYRING_VERSION = 1
_TIMEOUT = 30.0

# What the user can do about each refusal of the OAuth server (its documented error codes).
_WHAT_TO_DO = {
    "invalid_grant": "The refresh token was refused (it expired after 180 days, was already used, or the app was "
                     "re-authorized elsewhere): authorize the application again.",
    "invalid_client": "The client id or client secret was refused, or the application is not installed on this "
                      "portal: check both values in the application's card on the portal, then authorize again.",
    "invalid_request": "The OAuth server did not understand the request: check the OAuth server address.",
    "invalid_scope": "The application asks for more scopes than its card grants: add them in the application's "
                     "card on the portal.",
    "insufficient_scope": "The application asks for more scopes than its card grants: add them in the "
                          "application's card on the portal.",
    "PAYMENT_REQUIRED": "The application's trial or paid period is over: renew it; until then no tokens are "
                        "issued.",
}


def normalize_portal(address: str) -> str:
    """`scheme://host[:port]` of a portal given as a host, a URL or a client endpoint (https unless loopback)."""
    text = (address or "").strip()
    if not text:
        raise SdkError(OAUTH_INVALID, "The portal address is empty: give it as https://your-portal.bitrix24.com", 400)
    if "://" not in text:
        text = f"https://{text}"
    try:
        parts = urlsplit(text)
        host, port = parts.hostname, parts.port
    except ValueError:
        raise SdkError(OAUTH_INVALID, "The portal address is not a URL", 400) from None
    scheme = parts.scheme.lower()
    if scheme not in ("http", "https") or not host or parts.username or parts.password:
        raise SdkError(OAUTH_INVALID, "The portal address must look like https://your-portal.bitrix24.com", 400)
    if scheme == "http" and not is_loopback_host(host):
        raise SdkError(OAUTH_INVALID, "The portal must be reached over https (plain http only on loopback)", 400)
    netloc = host if ":" not in host else f"[{host}]"
    if port is not None and (scheme, port) not in (("https", 443), ("http", 80)):
        netloc = f"{netloc}:{port}"
    return f"{scheme}://{netloc}"


def _check_server(url: str) -> str:
    text = (url or "").strip() or DEFAULT_OAUTH_SERVER
    try:
        parts = urlsplit(text)
        host = parts.hostname
    except ValueError:
        host = None
    if not host or parts.scheme.lower() not in ("http", "https"):
        raise SdkError(OAUTH_INVALID, f"The OAuth server address must be a URL like {DEFAULT_OAUTH_SERVER}", 400)
    if parts.scheme.lower() == "http" and not is_loopback_host(host):
        raise SdkError(OAUTH_INVALID, "The OAuth server must be reached over https (plain http only on loopback)",
                       400)
    return text


@dataclass(frozen=True)
class OAuthApp:
    """A local (or Market) application: its client id, client secret and the OAuth server that issues tokens."""

    client_id: str
    client_secret: str = field(repr=False)
    oauth_server: str = DEFAULT_OAUTH_SERVER

    def __post_init__(self) -> None:
        if not self.client_id.strip() or not self.client_secret.strip():
            raise SdkError(OAUTH_INVALID, "An application needs both its client id and its client secret", 400)
        object.__setattr__(self, "client_id", self.client_id.strip())
        object.__setattr__(self, "client_secret", self.client_secret.strip())
        object.__setattr__(self, "oauth_server", _check_server(self.oauth_server))


@dataclass(frozen=True)
class TokenSet:
    """The pair of tokens and what the OAuth server said about them. str/repr never show a token."""

    access_token: str = field(repr=False)
    refresh_token: str = field(repr=False)
    expires: float = 0.0  # unix time the access token stops working (0: unknown)
    member_id: str = ""
    scopes: tuple[str, ...] = ()
    client_endpoint: str = ""  # https://portal/rest/
    server_endpoint: str = ""
    user_id: int | None = None
    status: str = ""

    @classmethod
    def from_answer(cls, data: Mapping[str, Any], now: float | None = None) -> TokenSet:
        """A token set from the OAuth server's answer (authorization_code or refresh_token grant)."""
        access, refresh = data.get("access_token"), data.get("refresh_token")
        if not isinstance(access, str) or not access or not isinstance(refresh, str) or not refresh:
            raise SdkError(OAUTH_SERVER_FAILED, "The OAuth server's answer has no access_token/refresh_token", 502)
        now = time.time() if now is None else now
        lifetime = _number(data.get("expires_in"))  # against this machine's clock: a skewed one still works
        expires = now + lifetime if lifetime else _number(data.get("expires"))
        scope = data.get("scope") or ""
        scopes = tuple(s.strip() for s in str(scope).split(",") if s.strip()) if not isinstance(scope, list) else (
            tuple(str(s) for s in scope))
        user = data.get("user_id")
        return cls(
            access_token=access,
            refresh_token=refresh,
            expires=float(expires),
            member_id=str(data.get("member_id") or ""),
            scopes=scopes,
            client_endpoint=str(data.get("client_endpoint") or ""),
            server_endpoint=str(data.get("server_endpoint") or ""),
            user_id=int(user) if isinstance(user, int | str) and str(user).isdigit() else None,
            status=str(data.get("status") or ""),
        )

    @classmethod
    def pasted(cls, access_token: str, refresh_token: str, *, expires: float = 0.0, member_id: str = "",
               scopes: tuple[str, ...] = ()) -> TokenSet:
        """Tokens of an app authorized elsewhere, as a user pastes them."""
        access, refresh = (access_token or "").strip(), (refresh_token or "").strip()
        if not access or not refresh:
            raise SdkError(OAUTH_INVALID, "Paste both the access token and the refresh token", 400)
        return cls(access_token=access, refresh_token=refresh, expires=expires, member_id=member_id,
                   scopes=tuple(scopes))

    def expired(self, now: float | None = None) -> bool:
        return bool(self.expires) and (time.time() if now is None else now) >= self.expires

    def to_dict(self) -> dict[str, Any]:
        return {
            "access_token": self.access_token, "refresh_token": self.refresh_token, "expires": self.expires,
            "member_id": self.member_id, "scope": ",".join(self.scopes), "client_endpoint": self.client_endpoint,
            "server_endpoint": self.server_endpoint, "user_id": self.user_id, "status": self.status,
        }


def _number(value: Any) -> float:
    try:
        return float(value) if value not in (None, "", False) else 0.0
    except (TypeError, ValueError):
        return 0.0


@dataclass(frozen=True)
class OAuthCredentials:
    """Everything an app connection needs; the keyring holds it as one JSON text (:meth:`to_keyring_text`)."""

    portal: str  # scheme://host[:port]
    app: OAuthApp
    tokens: TokenSet

    def __post_init__(self) -> None:
        object.__setattr__(self, "portal", normalize_portal(self.portal))

    @property
    def rest_base(self) -> str:
        """Where calls go: the token set's client endpoint when it is on the same portal, else portal/rest."""
        endpoint = self.tokens.client_endpoint.rstrip("/")
        if endpoint:
            try:
                if normalize_portal(endpoint) == self.portal and urlsplit(endpoint).path.rstrip("/") == "/rest":
                    return endpoint
            except SdkError:
                pass
        return f"{self.portal}/rest"

    @property
    def host(self) -> str:
        return urlsplit(self.portal).hostname or ""

    @property
    def secrets(self) -> tuple[str, ...]:
        """Every secret of these credentials (tokens and client secret): masked wherever text is shown."""
        return (self.tokens.access_token, self.tokens.refresh_token, self.app.client_secret)

    @property
    def masked(self) -> str:
        return f"{self.portal}/rest/ (app {self.app.client_id}, token {mask_secret(self.tokens.access_token)})"

    def with_tokens(self, tokens: TokenSet) -> OAuthCredentials:
        return replace(self, tokens=tokens)

    def to_keyring_text(self) -> str:
        return json.dumps({
            "kind": _KEYRING_KIND, "version": _KEYRING_VERSION, "portal": self.portal,
            "client_id": self.app.client_id, "client_secret": self.app.client_secret,
            "oauth_server": self.app.oauth_server, "tokens": self.tokens.to_dict(),
        }, separators=(",", ":"))

    @classmethod
    def from_keyring_text(cls, text: str) -> OAuthCredentials:
        try:
            data = json.loads(text)
            if not isinstance(data, dict) or data.get("kind") != _KEYRING_KIND:
                raise ValueError("not an application entry")
            tokens = data["tokens"]
            return cls(
                portal=str(data["portal"]),
                app=OAuthApp(str(data["client_id"]), str(data["client_secret"]),
                             str(data.get("oauth_server") or DEFAULT_OAUTH_SERVER)),
                tokens=TokenSet.from_answer(tokens, now=0.0) if isinstance(tokens, dict) else TokenSet("", ""),
            )
        except (ValueError, KeyError, TypeError, SdkError):
            raise SdkError(OAUTH_INVALID, "The keyring entry of this connection is not an application's "
                                          "credentials: connect the application again", 400) from None

    def __str__(self) -> str:
        return self.masked


def is_keyring_oauth_text(text: str) -> bool:
    """Whether a connection's keyring text is an application's credentials (else: a webhook URL)."""
    return text.lstrip().startswith("{") and f'"kind":"{_KEYRING_KIND}"' in text.replace(" ", "")


# --- the authorization-code flow --------------------------------------------------------------------------------

def new_state() -> str:
    """An unguessable `state` value: the redirect is accepted only when it carries it back."""
    return secrets.token_urlsafe(18)


def authorize_url(portal: str, client_id: str, state: str, redirect_uri: str | None = None) -> str:
    """The portal's authorize page for `client_id` (open it in a browser)."""
    query = {"client_id": client_id, "state": state}
    if redirect_uri:
        query["redirect_uri"] = redirect_uri
    return f"{normalize_portal(portal)}/oauth/authorize/?{urlencode(query)}"


class OAuthError(SdkError):
    """The OAuth server refused (``code`` is its error code) or failed; the message says what to do."""

    def __init__(self, code: str, description: str, status: int = 400, *, action: str = "") -> None:
        self.action = action
        super().__init__(code, f"{description} {action}".strip(), status)


async def request_tokens(app: OAuthApp, grant: Mapping[str, str], *, http: httpx.AsyncClient | None = None,
                         verify: ssl.SSLContext | None = None, now: Callable[[], float] = time.time) -> TokenSet:
    """One GET to the OAuth server (a code exchange or a refresh), its answer as a TokenSet.

    Raises OAuthError for a refusal (the documented `error`/`error_description` answer) or a failure. TLS is
    verified against the OS trust store unless `verify` (a connection's context with its CA file) is given; the
    environment's proxy settings apply.
    """
    params = {**grant, "client_id": app.client_id, "client_secret": app.client_secret}
    known = (app.client_secret, *(v for k, v in grant.items() if k in ("code", "refresh_token")))
    own = http is None
    client = http or httpx.AsyncClient(timeout=_TIMEOUT, verify=verify or tls_context(None), follow_redirects=False)
    try:
        response = await client.get(app.oauth_server, params=params, headers={"Accept": "application/json"})
        raw = response.content
    except httpx.HTTPError as exc:
        target = httpx.URL(app.oauth_server)
        failure = certificate_failure(exc)
        if failure is not None:
            problem = await asyncio.to_thread(describe_certificate_failure, failure, target.host, target.port or 443)
            raise OAuthError(TLS_CERTIFICATE_UNTRUSTED, problem.message(), 0) from None
        raise OAuthError(OAUTH_SERVER_FAILED, f"The OAuth server {target.host} could not be reached "
                         f"({type(exc).__name__}).", 0,
                         action="Check the OAuth server address and the network (proxy settings).") from None
    finally:
        if own:
            await client.aclose()
    try:
        data = json.loads(raw)
    except ValueError:
        data = None
    if not isinstance(data, dict):
        raise OAuthError(OAUTH_SERVER_FAILED,
                         f"The OAuth server answered HTTP {response.status_code} with something that is not JSON.",
                         response.status_code or 502, action="Check the OAuth server address.")
    if data.get("error"):
        code = str(data["error"])
        said = mask_secrets(str(data.get("error_description") or code), known)
        action = _WHAT_TO_DO.get(code, "Authorize the application again.")
        raise OAuthError(code, f"The OAuth server refused: {said}.", response.status_code or 400, action=action)
    if response.status_code >= 400:
        raise OAuthError(OAUTH_SERVER_FAILED, f"The OAuth server answered HTTP {response.status_code}.",
                         response.status_code, action="Check the OAuth server address.")
    return TokenSet.from_answer(data, now=now())


async def exchange_code(app: OAuthApp, code: str, **kw: Any) -> TokenSet:
    """Trade an authorization code (it lives 30 seconds) for the first token set."""
    if not code:
        raise OAuthError("invalid_request", "The redirect carried no authorization code.")
    return await request_tokens(app, {"grant_type": "authorization_code", "code": code}, **kw)


async def refresh_tokens(app: OAuthApp, refresh_token: str, **kw: Any) -> TokenSet:
    """A new token set for a refresh token (each refresh token works once)."""
    return await request_tokens(app, {"grant_type": "refresh_token", "refresh_token": refresh_token}, **kw)


# --- the auth provider a client calls through -------------------------------------------------------------------

SaveTokens = Callable[["OAuthCredentials"], Awaitable[None]]
LoadCredentials = Callable[[], Awaitable["OAuthCredentials"]]


class OAuthSession:
    """The current credentials of one app connection, and the one refresh at a time that renews them.

    A client sends `auth=<access_token>`; when the portal answers `expired_token` the client calls
    :meth:`refresh` with the token it sent. Concurrent callers wait on one lock: the first refreshes (and saves
    the new pair through `save`), the others see the token already changed and re-send at once.

    Another process on this machine (the window and `b24x` share a connection) may have refreshed first: its
    refresh token is then spent, so a refused refresh reads the stored credentials through `reload` and goes on
    with them when they hold a newer pair.
    """

    def __init__(self, credentials: OAuthCredentials, *, save: SaveTokens | None = None,
                 reload: LoadCredentials | None = None, verify: ssl.SSLContext | None = None,
                 now: Callable[[], float] = time.time) -> None:
        self.credentials = credentials
        self._save = save
        self._reload = reload
        self._verify = verify
        self._now = now
        self._lock = asyncio.Lock()
        self._retired: tuple[str, ...] = ()  # earlier tokens: still masked wherever they may appear
        self.refreshes = 0
        self.save_failure: Exception | None = None  # the last refresh worked but its tokens were not saved

    @property
    def access_token(self) -> str:
        return self.credentials.tokens.access_token

    # where calls go: the same names a Webhook offers, so a client builds URLs the same way for both
    @property
    def portal(self) -> str:
        return self.credentials.portal

    @property
    def host(self) -> str:
        return self.credentials.host

    @property
    def v2_base(self) -> str:
        return self.credentials.rest_base

    @property
    def v3_base(self) -> str:
        return f"{self.credentials.rest_base}/api"

    @property
    def masked(self) -> str:
        return self.credentials.masked

    @property
    def masked_v3_base(self) -> str:
        return f"{self.credentials.rest_base}/api"

    def __repr__(self) -> str:
        return f"OAuthSession({self.masked!r})"

    @property
    def secrets(self) -> tuple[str, ...]:
        return (*self.credentials.secrets, *self._retired)

    def expired(self) -> bool:
        """Whether the access token's known lifetime is over (then it is renewed before a call, not after)."""
        return self.credentials.tokens.expired(self._now())

    def set_verify(self, verify: ssl.SSLContext | None) -> None:
        """The TLS context the OAuth server is reached with (the connection's, when it has a CA file)."""
        self._verify = verify

    async def refresh(self, stale_token: str) -> str:
        """The access token to re-send with: a fresh one, refreshed at most once however many callers ask."""
        async with self._lock:
            if self.credentials.tokens.access_token != stale_token:
                return self.credentials.tokens.access_token  # another call refreshed meanwhile
            old = self.credentials
            try:
                tokens = await refresh_tokens(old.app, old.tokens.refresh_token, verify=self._verify, now=self._now)
            except OAuthError as err:
                stored = await self._newer_stored(old) if err.code == "invalid_grant" else None
                if stored is not None:
                    self.credentials = stored
                    self._retired = (*self._retired, old.tokens.access_token, old.tokens.refresh_token)
                    return stored.tokens.access_token
                raise AjaxError(
                    OAUTH_REFRESH_REFUSED if err.code in _WHAT_TO_DO else err.code,
                    f"The access token expired and could not be renewed: {err.description}",
                    401,
                    secrets=self.secrets,
                ) from None
            if not tokens.client_endpoint:
                tokens = replace(tokens, client_endpoint=old.tokens.client_endpoint)
            self.credentials = old.with_tokens(tokens)
            self._retired = (*self._retired, old.tokens.access_token, old.tokens.refresh_token)
            self.refreshes += 1
            if self._save is not None:
                try:
                    await self._save(self.credentials)
                except Exception as exc:  # the new pair works; the caller warns that it was not kept
                    self.save_failure = exc
            return tokens.access_token

    async def _newer_stored(self, old: OAuthCredentials) -> OAuthCredentials | None:
        """The stored credentials when another process refreshed them since these were read (else None)."""
        if self._reload is None:
            return None
        try:
            stored = await self._reload()
        except Exception:  # nothing better stored: the refusal stands
            return None
        same_app = stored.portal == old.portal and stored.app.client_id == old.app.client_id
        if not same_app or stored.tokens.refresh_token == old.tokens.refresh_token:
            return None
        return stored
