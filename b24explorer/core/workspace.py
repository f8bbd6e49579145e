"""The workspace: everything the window and the command line share, without Qt.

- :attr:`Workspace.connections` — the evented connection registry (:mod:`b24explorer.core.connections`);
- one ``B24Client`` per connection, kept until the connection changes or goes (:meth:`Workspace.client`);
- the method catalog per connection (:meth:`Workspace.catalog`) and the params templates it gives;
- the request history and *the* function that records a request's outcome in it (:meth:`Workspace.record`).

Everything is keyed by the connection's id, so a rename touches none of it. The caches follow the registry by
subscribing to its events (``changed`` and ``removed`` drop a stale client and catalog).

httpx and the client load on the first :meth:`client` call, not with this module: the window builds its
workspace before its first paint.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from .connections import Connection, Connections
from .emitter import Emitter
from .logbus import LogBus
from .state import MemoryState, WorkspaceState
from .vault import Vault

if TYPE_CHECKING:
    from .catalog import Catalog
    from .client import B24Client
    from .connection_check import ConnectionReport
    from .history import HistoryStore
    from .oauth import OAuthSession
    from .outcome import RequestOutcome  # loaded with the first request, not with the window
    from .webhook import Webhook


HistoryFactory = Callable[[int | None], "HistoryStore"]


def _documented_template(method: str, api: int) -> str:
    """The reference catalog's template of ``method`` as editor text ("" when the catalog is not loaded yet, does
    not know the method, or the docs require no params)."""
    import sys

    # Not imported yet means not loaded either; importing it here would load its gzip reader before a start paints.
    reference = sys.modules.get(f"{__package__}.reference")
    if reference is None or not reference.is_loaded():
        return ""
    catalog = reference.reference_catalog()
    documented = catalog.get(method, api) or catalog.get(method)
    template = documented.template() if documented is not None else {}
    if not template:
        return ""
    import json

    return json.dumps(template, ensure_ascii=False, indent=2)


def _default_history(response_cap: int | None) -> HistoryStore:
    from .history import DEFAULT_RESPONSE_CAP, HistoryStore

    return HistoryStore(response_cap=response_cap if response_cap is not None else DEFAULT_RESPONSE_CAP)


class Workspace:
    """Connections, their clients and catalogs, and the history, for one window or one command.

    Args:
        state: where saved connections and window state live (default: memory only).
        vault: where secrets live (default: the OS keyring, and memory for "this run only").
        log_bus: where the clients log (default: a new bus).
        client_options: keyword arguments for every ``B24Client`` (tests pass timeouts, transports…).
        history: the history store (default: ``history.sqlite3`` in the data directory, opened on first use).
    """

    def __init__(self, *, state: WorkspaceState | None = None, vault: Vault | None = None,
                 log_bus: LogBus | None = None, client_options: dict[str, Any] | None = None,
                 history: HistoryStore | None = None, history_factory: HistoryFactory = _default_history) -> None:
        self.state: WorkspaceState = state if state is not None else MemoryState()
        self.vault = vault if vault is not None else Vault()
        self.log_bus = log_bus if log_bus is not None else LogBus()
        self.client_options = dict(client_options or {})
        self.connections = Connections(self.state, self.vault, on_error=self._listener_failed)
        #: a request's outcome is in the history now (the history panel refreshes)
        self.recorded: Emitter[RequestOutcome] = Emitter("recorded", self._listener_failed)
        self._history = history
        self._history_factory = history_factory
        self._clients: dict[str, tuple[Connection, Webhook | OAuthSession, B24Client]] = {}
        self._catalogs: dict[str, Catalog] = {}
        self.connections.events.changed.connect(lambda conn: self._forget(conn.id))
        self.connections.events.removed.connect(lambda conn: self._forget(conn.id))

    def _listener_failed(self, event: str, exc: BaseException) -> None:
        self.log_bus.error("EVENT_LISTENER_FAILED",
                           f"A listener of the {event!r} event failed: {type(exc).__name__}: {exc}")

    def known_secrets(self) -> tuple[str, ...]:
        return self.connections.secrets()

    # --- clients ----------------------------------------------------------------------------------
    async def client(self, key: str) -> B24Client:
        """The connection's client, built on first use and kept while the connection stays as it is. An app
        connection's client calls through its OAuth session (refreshed tokens go back to the keyring)."""
        conn = self.connections.require(key)
        access = await self.connections.access(conn.id)
        conn = self.connections.require(conn.id)  # reading the secret may have filled in its masked form
        cached = self._clients.get(conn.id)
        if (cached is not None and cached[1] == access and cached[0].limits == conn.limits
                and cached[0].ca_file == conn.ca_file and not cached[2].closed):
            return cached[2]
        if cached is not None:
            await cached[2].aclose()
        client = self.new_client(access, limits=conn.limits, log=self._connection_log(conn.id),
                                 ca_file=conn.ca_file or None)
        self._clients[conn.id] = (conn, access, client)
        return client

    def existing_client(self, key: str) -> B24Client | None:
        """The connection's client if one was built (and is still open); never builds one."""
        conn = self.connections.get(key)
        cached = self._clients.get(conn.id) if conn is not None else None
        return cached[2] if cached is not None and not cached[2].closed else None

    def new_client(self, hook: Webhook | OAuthSession, *, limits: str | None = None, **options: Any) -> B24Client:
        """A client of the workspace's log and options (the caller closes it): a connection's, or a bare
        webhook's (the connection test, the command line's ``--webhook``)."""
        from .client import B24Client
        from .limits import LimitsConfig

        merged = {"log": self.log_bus, **self.client_options, **options}
        if limits is not None and "limits" not in merged:
            merged["limits"] = LimitsConfig.from_plan(limits)
        return B24Client(hook, **merged)

    def _connection_log(self, conn_id: str) -> LogBus:
        """The bus as the connection's client logs to it: each record names the connection."""
        from .logbus import ConnectionLog

        def name() -> str:
            conn = self.connections.get(conn_id)
            return conn.name if conn is not None else ""

        return ConnectionLog(self.log_bus, name)

    def _forget(self, conn_id: str) -> None:
        """The connection changed or went: its client and catalog are stale (closed on the next loop turn)."""
        self._catalogs.pop(conn_id, None)
        cached = self._clients.pop(conn_id, None)
        if cached is not None:
            self._close_soon(cached[2])

    @staticmethod
    def _close_soon(client: B24Client) -> None:
        import asyncio

        try:
            asyncio.get_running_loop().create_task(client.aclose())
        except RuntimeError:  # no loop (a command's end, a test's teardown): nothing is in flight on it
            return

    async def test_connection(self, webhook: Webhook | OAuthSession, ca_file: str | None = None) -> ConnectionReport:
        """server.time, profile and scope through a short-lived client (the webhook may not be saved yet).

        Only ``server.time`` decides whether the connection works; a refused ``profile`` or ``scope`` (a webhook
        without those permissions still calls its methods) and a user who is not an administrator are notes.
        """
        from .connection_check import check_connection  # the check's client loads with it, not at the start

        options = {k: v for k, v in self.client_options.items() if k != "v3_methods"}
        if ca_file:
            options["ca_file"] = ca_file
        return await check_connection(webhook, self.log_bus, options)

    # --- method catalog ---------------------------------------------------------------------------
    async def catalog(self, key: str) -> Catalog:
        """The connection's method catalog (hints, the portal's method list and scopes, its v3 schema)."""
        conn = self.connections.require(key)
        if conn.id in self._catalogs:
            return self._catalogs[conn.id]
        from . import catalog as core_catalog

        client = await self.client(conn.id)
        loaded = await core_catalog.load_for(client)
        for notice in loaded.notices:
            self.log_bus.notice("METHOD_LIST_PARTIAL", f"Method list: {notice}")
        self._catalogs[conn.id] = loaded
        return loaded

    def template_for(self, method: str, api: int, key: str = "") -> str:
        """The params template: from the connection's catalog (hints, or the portal's v3 schema), else the built-in
        hints, else — once it is loaded (the window reads it after its first paint) — the reference catalog's
        documented required params."""
        conn = self.connections.get(key) if key else None
        catalogs = [self._catalogs[conn.id]] if conn is not None and conn.id in self._catalogs else []
        catalogs += [c for conn_id, c in self._catalogs.items() if conn is None or conn_id != conn.id]
        for loaded in catalogs:
            entry = loaded.get(method)
            if entry is not None:
                return entry.template_text(api)
        from . import hints

        if hints.hint(method) is None:
            documented = _documented_template(method, api)
            if documented:
                return documented
        return hints.template_text(method, api)

    # --- history ----------------------------------------------------------------------------------
    @property
    def history(self) -> HistoryStore:
        """The history store (built on first use; opening the file happens on its first query)."""
        if self._history is None:
            self._history = self._history_factory(self.state.history_response_cap())
        return self._history

    async def open_history(self) -> list[str]:
        """Open the history now; rows of older files are linked to the saved connections' ids. Returns notices."""
        notices = await self.history.aopen()
        await self.history.alink_connections({c.name: c.id for c in self.connections})
        return notices

    def outcome(self, key: str, kind: str, method: str, api: int, params: Any,
                request_id: str | None = None) -> RequestOutcome:
        """A new outcome for a request about to go through connection ``key`` (``""``: none saved)."""
        from .outcome import RequestKind, RequestOutcome

        conn = self.connections.get(key) if key else None
        return RequestOutcome(conn.id if conn else key, conn.name if conn else key, RequestKind(kind), method, api,
                              params, request_id)

    async def record(self, outcome: RequestOutcome, extra_secrets: tuple[str, ...] = ()) -> int | None:
        """Record one request's outcome in the history — the one way the window and the command line do it.

        Secrets known to the workspace are scrubbed. A history that cannot be written never fails the request:
        the log says so and None is returned.
        """
        try:
            entry_id = await self.history.arecord_outcome(outcome, (*self.known_secrets(), *extra_secrets))
        except Exception as exc:  # losing a history line must never disturb the request itself
            self.log_bus.warning("HISTORY_NOT_RECORDED", f"The request was not recorded: {exc}")
            return None
        self.recorded.emit(outcome)
        return entry_id

    # --- the end ----------------------------------------------------------------------------------
    async def aclose(self) -> None:
        """Close every client and the history (its worker thread); wait for the settings to be written."""
        import asyncio

        clients = [client for _conn, _hook, client in self._clients.values()]
        self._clients.clear()
        await asyncio.gather(*(c.aclose() for c in clients), return_exceptions=True)
        loop = asyncio.get_running_loop()
        if self._history is not None:
            await loop.run_in_executor(None, self._history.close)
        await loop.run_in_executor(None, self.state.flush)
