"""Connections: one :class:`Connection` record per portal connection, keyed by its stable id, and the evented
registry of them that the window, the history and the client cache subscribe to.

The id is the reference of the connection's keyring entry (:func:`b24explorer.core.vault.new_reference`): it
never changes, so a rename is one call here and one ``renamed`` event, and nothing else keyed by the id (the
cached client, the method catalog, history rows, saved requests, the window's per-connection state) has to
follow. The name is only what people read.

A connection's ``storage`` says where its secret lives (the keyring, this run only, or the built-in sandbox);
its ``auth`` says what that secret is. Today every connection is an incoming webhook; an OAuth application
becomes another :class:`Auth` value with its own secret in the vault under the same id — no other change to the
record or its events.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, replace
from enum import StrEnum
from typing import Protocol

from .emitter import Emitter
from .vault import Vault, new_reference
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
        return f"{self.name}{suffix}"

    @property
    def shown(self) -> str:
        """The masked webhook when known, else host and user."""
        return self.masked or f"{self.host} · user {self.user_id}"


@dataclass(frozen=True)
class Renamed:
    connection: Connection  # as it is now
    old_name: str


class ConnectionEvents:
    """What the registry tells its subscribers. Each event carries the record as it is after the change.

    Signals:
        added(Connection): a connection was added (saved, this run only, or the sandbox).
        renamed(Renamed): a connection got a new name; its id and everything keyed by it stay.
        changed(Connection): its webhook, limits or read-only switch changed — a cached client of it is stale.
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
        """Every webhook secret this run has seen, for masking."""
        return tuple(h.secret for h in [*self._volatile.values(), *self._known.values()])

    async def webhook(self, key: str) -> Webhook:
        """The connection's webhook, from the keyring (or this run's memory). Raises VaultError, ConnectionChangeError."""
        conn = self.require(key)
        if conn.id in self._volatile:
            return self._volatile[conn.id]
        hook = Webhook.parse(await self.vault.read(conn.id))
        self._known[conn.id] = hook
        if conn.masked != hook.masked:  # display only: no event
            self._all[conn.id] = replace(conn, masked=hook.masked)
        return hook

    # --- changing ---------------------------------------------------------------------------------
    async def add(self, name: str, webhook: Webhook, limits: str = "standard") -> Connection:
        """Save in the keyring, then in settings. Raises VaultError (nothing saved) when the keyring fails."""
        conn = self._new(name, webhook, limits, Storage.SAVED)
        await self.vault.save(conn.id, webhook.url)
        return self._put_new(conn, webhook)

    def add_for_this_run(self, name: str, webhook: Webhook, limits: str = "standard") -> Connection:
        """The keyring failed and the user chose "use for this run only": listed, never written anywhere."""
        conn = self._new(name, webhook, limits, Storage.SESSION)
        self.vault.keep_for_this_run(conn.id, webhook.url)
        return self._put_new(conn, webhook)

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
        self._persist(conn)
        self.events.removed.emit(conn)

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
