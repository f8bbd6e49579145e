"""Connections: one :class:`Connection` record per portal connection, keyed by its stable id, and the evented
registry of them that the window, the history and the client cache subscribe to.

The id is the reference of the connection's keyring entry (:func:`b24explorer.core.vault.new_reference`): it
never changes, so a rename is one call here and one ``renamed`` event, and nothing else keyed by the id (the
cached client, the method catalog, history rows, saved requests, the window's per-connection state) has to
follow. The name is only what people read.

A connection's ``storage`` says where its secret lives (the keyring, this run only, or the built-in sandbox);
its ``auth`` says what that secret is: an incoming webhook URL, or an OAuth application's credentials (portal,
client id and secret, OAuth server, token set as one JSON text, :mod:`b24explorer.core.oauth_store`). Either way
the secret lives in the vault under the connection's id and nowhere else. :meth:`Connections.access` gives what a
client is built on: the webhook, or an :class:`~b24explorer.core.oauth.OAuthSession` that saves each refreshed
token pair back into the vault (one session per connection, so every token it ever held stays masked).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, replace
from enum import StrEnum
from typing import TYPE_CHECKING, NamedTuple, Protocol

from .emitter import Emitter
from .vault import Vault, new_reference

if TYPE_CHECKING:  # core.oauth loads httpx: it is imported on the first app connection, not at the start
    from .oauth import OAuthCredentials, OAuthSession
    from .webhook import Webhook

LIMIT_PRESETS = ("standard", "enterprise", "unlimited")


class Storage(StrEnum):
    """Where the connection's secret is kept (and whether the record is written to the settings)."""

    SAVED = "saved"  # the OS keyring; the record is in settings.json
    SESSION = "session"  # this run only: the keyring failed or is missing, nothing is written anywhere
    SANDBOX = "sandbox"  # the built-in sandbox portal of this run


class Auth(StrEnum):
    """What the secret under the connection's id is."""

    WEBHOOK = "webhook"  # an incoming webhook URL (https://portal/rest/USER/SECRET/)
    OAUTH = "oauth"  # an OAuth application's credentials: client id/secret, OAuth server, token set


class ConnectionChangeError(ValueError):
    """A change the registry refuses (an empty or taken name, an unknown connection, …); the message says which."""


@dataclass(frozen=True)
class Connection:
    """A portal connection as everything outside the vault sees it: never its secret.

    Attributes:
        id: the stable id, also the reference of the keyring entry.
        name: what people call it; unique among the connections, free to change.
        portal: ``scheme://host[:port]``, never the webhook path.
        user_id: the portal user the webhook acts as.
        limits: the client-side rate-limit preset (one of :data:`LIMIT_PRESETS`).
        storage: where the secret lives.
        auth: what the secret is.
        masked: the webhook with its secret masked, once known this run (else host and user).
        read_only: the user's switch: methods that may change data are refused before they are sent.
        ca_file: a CA file (PEM) trusted for this portal besides the OS trust store ("" for none).
    """

    id: str
    name: str
    portal: str
    user_id: int
    limits: str = "standard"
    storage: Storage = Storage.SAVED
    auth: Auth = Auth.WEBHOOK
    masked: str = ""
    read_only: bool = False
    ca_file: str = ""

    @property
    def is_app(self) -> bool:
        """An OAuth application connection (it may call app-context methods)."""
        return self.auth is Auth.OAUTH

    @property
    def host(self) -> str:
        return self.portal.split("://", 1)[-1]

    @property
    def kind(self) -> str:
        """The storage as a plain word (``saved``, ``session``, ``sandbox``), for labels and icons."""
        return str(self.storage)

    @property
    def label(self) -> str:
        suffix = {Storage.SESSION: "  (this run only)", Storage.SANDBOX: "  (local sandbox)"}.get(self.storage, "")
        return f"{self.name}{'  [app]' if self.is_app else ''}{suffix}"

    @property
    def shown(self) -> str:
        """The masked webhook (or app credentials) when known, else host and user."""
        if self.masked:
            return self.masked
        return f"{self.host} · application" if self.is_app else f"{self.host} · user {self.user_id}"


class Renamed(NamedTuple):
    """A ``renamed`` event: the connection under its new name, and the name it had."""

    connection: Connection  # as it is now
    old_name: str


class ConnectionEvents:
    """What the registry tells its subscribers. Each event carries the record as it is after the change.

    Signals:
        added(Connection): a connection was added (saved, this run only, or the sandbox).
        renamed(Renamed): a connection got a new name; its id and everything keyed by it stay.
        changed(Connection): its secret, limits, CA file or read-only switch changed — a cached client of it is
        stale.
        removed(Connection): it is gone (its keyring entry too, for a saved one).
    """

    def __init__(self, on_error: Callable[[str, BaseException], None] | None = None) -> None:
        self.added: Emitter[Connection] = Emitter("added", on_error)
        self.renamed: Emitter[Renamed] = Emitter("renamed", on_error)
        self.changed: Emitter[Connection] = Emitter("changed", on_error)
        self.removed: Emitter[Connection] = Emitter("removed", on_error)

    def any_change(self, slot: Callable[[], object]) -> Callable[[], None]:
        """Connects ``slot`` to all four events (a list that just re-reads the registry); returns the disconnect."""
        offs = [self.added.connect(lambda _c: slot()), self.renamed.connect(lambda _r: slot()),
                self.changed.connect(lambda _c: slot()), self.removed.connect(lambda _c: slot())]

        def disconnect() -> None:
            for off in offs:
                off()

        return disconnect


class ConnectionFile(Protocol):
    """Where saved connections are kept between runs (settings.json, or memory in tests)."""

    def load_connections(self) -> list[Connection]: ...
    def save_connections(self, connections: list[Connection]) -> None: ...


class Connections:
    """The registry: saved connections (settings + keyring) and volatile ones (sandbox, "this run only").

    Every lookup takes a *key*: the id, or — for people and the command line — the name.
    """

    def __init__(self, store: ConnectionFile, vault: Vault,
                 on_error: Callable[[str, BaseException], None] | None = None) -> None:
        self.store = store
        self.vault = vault
        self.events = ConnectionEvents(on_error)
        self._all: dict[str, Connection] = {c.id: c for c in store.load_connections()}
        self._volatile: dict[str, Webhook] = {}  # the sandbox's webhook (never in the vault)
        self._known: dict[str, Webhook] = {}  # webhooks read this run, for masking
        self._sessions: dict[str, OAuthSession] = {}  # app connections' sessions of this run (their tokens, old too)
        self._retired: list[str] = []  # secrets of sessions replaced or removed this run: still masked

    # --- reading ----------------------------------------------------------------------------------
    def __iter__(self) -> Iterator[Connection]:
        """The sandbox first, then saved connections, then those of this run only."""
        order = {Storage.SANDBOX: 0, Storage.SAVED: 1, Storage.SESSION: 2}
        return iter(sorted(self._all.values(), key=lambda c: order[c.storage]))

    def all(self) -> list[Connection]:
        return list(self)

    def names(self) -> list[str]:
        return [c.name for c in self]

    def get(self, key: str) -> Connection | None:
        """By id, else by name."""
        found = self._all.get(key)
        if found is not None:
            return found
        return next((c for c in self._all.values() if c.name == key), None)

    def require(self, key: str) -> Connection:
        found = self.get(key)
        if found is None:
            known = ", ".join(sorted(self.names())) or "none yet"
            raise ConnectionChangeError(f"No connection “{key}” (known: {known}).")
        return found

    def secrets(self) -> tuple[str, ...]:
        """Every webhook secret, token and client secret this run has seen (refreshed-away tokens too), for masking."""
        hooks = tuple(h.secret for h in [*self._volatile.values(), *self._known.values()])
        return hooks + tuple(s for session in self._sessions.values() for s in session.secrets) + tuple(self._retired)

    async def access(self, key: str) -> Webhook | OAuthSession:
        """What a client of the connection is built on: its webhook, or its app's session (one per connection and
        run; a refreshed token pair goes back into the vault). Raises VaultError, ConnectionChangeError, SdkError
        (an app entry that does not read back)."""
        conn = self.require(key)
        return await self.session(conn.id) if conn.is_app else await self.webhook(conn.id)

    async def session(self, key: str) -> OAuthSession:
        """The app connection's OAuth session, built from the vault on first use."""
        conn = self.require(key)
        if not conn.is_app:
            raise ConnectionChangeError(f"“{conn.name}” is a webhook connection, not an application.")
        found = self._sessions.get(conn.id)
        if found is not None:
            return found
        from .oauth_store import read_credentials

        session = self._new_session(conn.id, await read_credentials(self.vault, conn.id))
        self._sessions[conn.id] = session
        if conn.masked != session.masked:  # display only: no event
            self._all[conn.id] = replace(conn, masked=session.masked)
        return session

    async def webhook(self, key: str) -> Webhook:
        """The connection's webhook, from the keyring (or this run's memory). Raises VaultError, ConnectionChangeError
        (also for an app connection, which has none: see :meth:`access`)."""
        conn = self.require(key)
        if conn.is_app:
            raise ConnectionChangeError(f"“{conn.name}” is an application connection: it has no webhook.")
        if conn.id in self._volatile:
            return self._volatile[conn.id]
        from .webhook import Webhook  # the start reads no webhook: the parser comes with the first one

        hook = Webhook.parse(await self.vault.read(conn.id))
        self._known[conn.id] = hook
        if conn.masked != hook.masked:  # display only: no event
            self._all[conn.id] = replace(conn, masked=hook.masked)
        return hook

    # --- changing ---------------------------------------------------------------------------------
    async def add(self, name: str, webhook: Webhook, limits: str = "standard", ca_file: str = "") -> Connection:
        """Save in the keyring, then in settings. Raises VaultError (nothing saved) when the keyring fails."""
        conn = replace(self._new(name, webhook, limits, Storage.SAVED), ca_file=ca_file)
        await self.vault.save(conn.id, webhook.url)
        return self._put_new(conn, webhook)

    def add_for_this_run(self, name: str, webhook: Webhook, limits: str = "standard", ca_file: str = "") -> Connection:
        """The keyring failed and the user chose "use for this run only": listed, never written anywhere."""
        conn = replace(self._new(name, webhook, limits, Storage.SESSION), ca_file=ca_file)
        self.vault.keep_for_this_run(conn.id, webhook.url)
        return self._put_new(conn, webhook)

    async def add_app(self, name: str, credentials: OAuthCredentials, limits: str = "standard",
                      ca_file: str = "") -> Connection:
        """An application connection: its credentials (tokens and client secret) go to the keyring, the record to
        settings. Raises VaultError (nothing saved) when the keyring fails."""
        conn = self._new_app(name, credentials, limits, Storage.SAVED, ca_file)
        await self.vault.save(conn.id, credentials.to_keyring_text())
        return self._put_app(conn, credentials)

    def add_app_for_this_run(self, name: str, credentials: OAuthCredentials, limits: str = "standard",
                             ca_file: str = "") -> Connection:
        """An application connection kept in memory only (the keyring failed); refreshed tokens stay in memory."""
        conn = self._new_app(name, credentials, limits, Storage.SESSION, ca_file)
        self.vault.keep_for_this_run(conn.id, credentials.to_keyring_text())
        return self._put_app(conn, credentials)

    async def update_app(self, key: str, credentials: OAuthCredentials) -> Connection:
        """New credentials for an app connection (authorized again, tokens pasted again): same id, `changed`."""
        from .oauth_store import save_credentials

        conn = self.require(key)
        if not conn.is_app:
            raise ConnectionChangeError(f"“{conn.name}” is a webhook connection, not an application.")
        await save_credentials(self.vault, conn.id, credentials)
        self._retire(conn.id)
        return self._change(replace(conn, portal=credentials.portal, user_id=credentials.tokens.user_id or 0,
                                    masked=credentials.masked))

    def set_ca_file(self, key: str, ca_file: str) -> Connection:
        """The CA file (PEM) trusted for the connection's portal besides the OS trust store; "" for none."""
        conn = self.require(key)
        ca_file = ca_file.strip()
        return conn if conn.ca_file == ca_file else self._change(replace(conn, ca_file=ca_file))

    def add_sandbox(self, name: str, webhook: Webhook, limits: str = "standard") -> Connection:
        """The built-in sandbox of this run (replaces an earlier one of the same name)."""
        old = self.get(name)
        if old is not None and old.storage is Storage.SANDBOX:
            self._drop(old)
        conn = self._new(name, webhook, limits, Storage.SANDBOX)
        self._volatile[conn.id] = webhook
        return self._put_new(conn, webhook)

    async def update_webhook(self, key: str, webhook: Webhook) -> Connection:
        """A new webhook for the same connection (same id). Raises VaultError when the keyring refuses it."""
        conn = self.require(key)
        if conn.is_app:
            raise ConnectionChangeError(f"“{conn.name}” is an application connection: authorize it again instead.")
        if conn.storage is Storage.SANDBOX:
            self._volatile[conn.id] = webhook
        elif conn.storage is Storage.SESSION:
            self.vault.keep_for_this_run(conn.id, webhook.url)
        else:
            await self.vault.save(conn.id, webhook.url)
        self._known[conn.id] = webhook
        return self._change(replace(conn, portal=webhook.portal, user_id=webhook.user_id, masked=webhook.masked))

    def set_limits(self, key: str, limits: str) -> Connection:
        _check_limits(limits)
        conn = self.require(key)
        return conn if conn.limits == limits else self._change(replace(conn, limits=limits))

    def set_read_only(self, key: str, read_only: bool) -> Connection:
        """The read-only switch: when on, the window and b24x refuse methods that may change data."""
        conn = self.require(key)
        return conn if conn.read_only == read_only else self._change(replace(conn, read_only=read_only))

    def rename(self, key: str, new_name: str) -> Connection:
        """One call, one ``renamed`` event; the id (and the keyring entry) stay as they are."""
        conn = self.require(key)
        new_name = new_name.strip()
        if new_name == conn.name:
            return conn
        self._check_free(new_name, ignore=conn.id)
        renamed = replace(conn, name=new_name)
        self._all[conn.id] = renamed
        self._persist(renamed)
        self.events.renamed.emit(Renamed(renamed, conn.name))
        return renamed

    async def remove(self, key: str) -> Connection:
        """Forget the connection and delete its keyring entry. The record is gone even when the keyring then
        fails (VaultError is raised after the ``removed`` event: the entry may be left behind)."""
        conn = self.require(key)
        self._drop(conn)
        if conn.storage is not Storage.SANDBOX:
            await self.vault.delete(conn.id)
        return conn

    # --- internals --------------------------------------------------------------------------------
    def _new(self, name: str, webhook: Webhook, limits: str, storage: Storage) -> Connection:
        name = name.strip()
        self._check_free(name)
        _check_limits(limits)
        return Connection(new_reference(), name, webhook.portal, webhook.user_id, limits, storage,
                          masked=webhook.masked)

    def _new_app(self, name: str, credentials: OAuthCredentials, limits: str, storage: Storage,
                 ca_file: str) -> Connection:
        name = name.strip()
        self._check_free(name)
        _check_limits(limits)
        return Connection(new_reference(), name, credentials.portal, credentials.tokens.user_id or 0, limits, storage,
                          Auth.OAUTH, credentials.masked, ca_file=ca_file.strip())

    def _new_session(self, conn_id: str, credentials: OAuthCredentials) -> OAuthSession:
        """A session that saves each refreshed pair to the vault and, when its refresh token was spent by another
        process (the window and b24x side by side), takes the pair that process saved."""
        from .oauth import OAuthSession
        from .oauth_store import keyring_saver, read_credentials

        return OAuthSession(credentials, save=keyring_saver(self.vault, conn_id),
                            reload=lambda: read_credentials(self.vault, conn_id))

    def _put_app(self, conn: Connection, credentials: OAuthCredentials) -> Connection:
        self._sessions[conn.id] = self._new_session(conn.id, credentials)
        self._all[conn.id] = conn
        self._persist(conn)
        self.events.added.emit(conn)
        return conn

    def _put_new(self, conn: Connection, webhook: Webhook) -> Connection:
        self._all[conn.id] = conn
        self._known[conn.id] = webhook
        self._persist(conn)
        self.events.added.emit(conn)
        return conn

    def _change(self, conn: Connection) -> Connection:
        self._all[conn.id] = conn
        self._persist(conn)
        self.events.changed.emit(conn)
        return conn

    def _drop(self, conn: Connection) -> None:
        del self._all[conn.id]
        self._volatile.pop(conn.id, None)
        self._known.pop(conn.id, None)
        self._retire(conn.id)
        self._persist(conn)
        self.events.removed.emit(conn)

    def require_free(self, name: str) -> None:
        """ConnectionChangeError when `name` is empty or taken (checked before a long authorization, too)."""
        self._check_free(name.strip())

    def _retire(self, conn_id: str) -> None:
        session = self._sessions.pop(conn_id, None)
        if session is not None:
            self._retired.extend(session.secrets)

    def _check_free(self, name: str, ignore: str | None = None) -> None:
        if not name:
            raise ConnectionChangeError("A connection needs a name.")
        if any(c.name == name and c.id != ignore for c in self._all.values()):
            raise ConnectionChangeError(f"A connection named “{name}” already exists.")

    def _persist(self, changed: Connection) -> None:
        if changed.storage is Storage.SAVED:
            self.store.save_connections([c for c in self._all.values() if c.storage is Storage.SAVED])


def _check_limits(limits: str) -> None:
    if limits not in LIMIT_PRESETS:
        raise ConnectionChangeError(f"Unknown limits preset “{limits}” (use one of {', '.join(LIMIT_PRESETS)}).")
