"""Request history and saved requests in SQLite (``history.sqlite3`` in the data directory).

Every request sent is recorded with its outcome and the response body up to a cap (1 MB by default). Nothing
that could carry the webhook secret is stored as given: params values under secret-looking keys are redacted,
webhook paths and ``key=value`` credentials in any text are masked, and the caller may name known secrets to
scrub everywhere (params and body).

Threads: one sqlite3 connection per thread (WAL mode, so readers never wait for the writer); the ``a*``
methods run on a single worker thread, which therefore is the one writer of the UI. A database that is corrupt,
from an unknown newer schema, or locked beyond the busy timeout is moved aside (renamed with a timestamp,
``-wal``/``-shm`` too) and a fresh one is created; :attr:`HistoryStore.notices` tells the user. Never a crash.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import sqlite3
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

from . import paths
from .redact import redact, redact_text

if TYPE_CHECKING:
    from .outcome import RequestOutcome

FILE_NAME = "history.sqlite3"
SCHEMA_VERSION = 3  # 2: saved requests keep their kind (call, batch, list); 3: rows refer to the connection id
DEFAULT_RESPONSE_CAP = 1024 * 1024
_REDACT_DEPTH = 64  # history redacts the whole params tree, not just the SDK's two log levels

T = TypeVar("T")

_SCHEMA = """
CREATE TABLE IF NOT EXISTS requests (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    ts REAL NOT NULL,
    connection TEXT NOT NULL,
    connection_name TEXT NOT NULL DEFAULT '',
    kind TEXT NOT NULL DEFAULT 'call',
    method TEXT NOT NULL,
    api INTEGER NOT NULL DEFAULT 2,
    params TEXT NOT NULL DEFAULT '{}',
    request_id TEXT NOT NULL DEFAULT '',
    status INTEGER,
    duration REAL,
    size INTEGER,
    error_code TEXT,
    response BLOB,
    response_truncated INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX IF NOT EXISTS requests_by_connection ON requests(connection, id);
CREATE INDEX IF NOT EXISTS requests_by_method ON requests(method);
CREATE TABLE IF NOT EXISTS saved_requests (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    connection TEXT NOT NULL,
    connection_name TEXT NOT NULL DEFAULT '',
    name TEXT NOT NULL,
    method TEXT NOT NULL,
    api INTEGER NOT NULL DEFAULT 2,
    params TEXT NOT NULL DEFAULT '{}',
    created REAL NOT NULL,
    updated REAL NOT NULL,
    kind TEXT NOT NULL DEFAULT '',
    UNIQUE(connection, name)
);
"""

_LIST_COLUMNS = (
    "id, ts, connection, connection_name, kind, method, api, params, request_id, status, duration, size, error_code, "
    "NULL AS response, response_truncated"
)
_FULL_COLUMNS = _LIST_COLUMNS.replace("NULL AS response", "response")


def method_label(kind: str, method: str, params_text: str = "") -> str:
    """How a history row names its request: the method, a batch with its size, a list-all."""
    if kind == "batch":
        try:
            commands = json.loads(params_text).get("cmd")
        except (ValueError, AttributeError):
            commands = None
        return f"batch ×{len(commands)}" if isinstance(commands, dict | list) else "batch"
    if kind == "list":
        return f"{method} (all items)"
    return method


@dataclass(frozen=True)
class HistoryEntry:
    id: int
    timestamp: float  # unix seconds
    connection: str  # the connection's id (a name in rows of schema 2 not yet linked to a connection)
    connection_name: str  # its name when the request was sent
    kind: str  # call | batch | list
    method: str
    api: int
    params: str  # JSON text, redacted
    request_id: str
    status: int | None
    duration: float | None  # seconds
    size: int | None  # bytes of the whole response
    error_code: str | None
    response: bytes | None  # None in search listings; the (capped) body from get()
    response_truncated: bool

    @property
    def when(self) -> datetime:
        return datetime.fromtimestamp(self.timestamp, UTC)

    @property
    def is_error(self) -> bool:
        return bool(self.error_code) or (self.status is not None and self.status >= 400)

    def params_value(self) -> Any:
        try:
            return json.loads(self.params)
        except ValueError:
            return self.params


@dataclass(frozen=True)
class SavedRequest:
    id: int
    connection: str  # the connection's id
    name: str
    method: str
    api: int
    params: str
    created: float
    updated: float
    kind: str = ""  # call, batch or list; "" for one saved before schema 2 (told by its method and params)
    connection_name: str = ""  # the connection's name when it was saved


def _migrate(conn: sqlite3.Connection) -> None:
    """Brings a file of an older schema up to this one (the tables exist: `_SCHEMA` ran first).

    Schema 3 keys rows by the connection's id; rows of older files name their connection instead. They keep that
    name as ``connection_name`` (and, until :meth:`HistoryStore.link_connections` maps it to an id, in
    ``connection`` too).
    """
    saved_columns = {row[1] for row in conn.execute("PRAGMA table_info(saved_requests)")}
    if "kind" not in saved_columns:  # schema 1
        conn.execute("ALTER TABLE saved_requests ADD COLUMN kind TEXT NOT NULL DEFAULT ''")
    for table in ("requests", "saved_requests"):
        columns = {row[1] for row in conn.execute(f"PRAGMA table_info({table})")}
        if "connection_name" not in columns:  # schema 1 or 2
            conn.execute(f"ALTER TABLE {table} ADD COLUMN connection_name TEXT NOT NULL DEFAULT ''")
            conn.execute(f"UPDATE {table} SET connection_name = connection")


# ---------------------------------------------------------------- scrubbing


def scrub_params(params: Any, secrets: Iterable[str] = ()) -> str:
    """Params as JSON text with secret-looking values redacted and webhook URLs masked."""
    secrets = tuple(s for s in secrets if s)
    if isinstance(params, str | bytes):
        text = params.decode("utf-8", "replace") if isinstance(params, bytes) else params
        try:
            params = json.loads(text)
        except ValueError:
            return redact_text(text, secrets)
    if params is None:
        params = {}
    try:
        return json.dumps(redact(params, _REDACT_DEPTH, secrets), ensure_ascii=False, default=str)
    except (TypeError, ValueError):
        return redact_text(repr(params), secrets)


def scrub_body(body: bytes, secrets: Iterable[str] = ()) -> bytes:
    """A response body with webhook URLs, query-string credentials and known secrets masked."""
    text = body.decode("utf-8", "surrogateescape")
    cleaned = redact_text(text, tuple(s for s in secrets if s))
    return body if cleaned == text else cleaned.encode("utf-8", "surrogateescape")


# ---------------------------------------------------------------- store


class HistoryStore:
    def __init__(
        self,
        path: Path | None = None,
        *,
        response_cap: int = DEFAULT_RESPONSE_CAP,
        busy_timeout: float = 2.0,
    ) -> None:
        self.path = path if path is not None else paths.data_dir() / FILE_NAME
        self.response_cap = response_cap
        self.busy_timeout = busy_timeout
        self.notices: list[str] = []
        self._local = threading.local()
        self._generation = 0  # bumped when the file is replaced, so every thread reconnects
        self._lock = threading.RLock()
        self._ready = False
        self._executor: ThreadPoolExecutor | None = None

    # -- connection handling

    def _connect(self, wal: bool = True) -> sqlite3.Connection:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        conn = sqlite3.connect(self.path, timeout=self.busy_timeout, isolation_level=None)
        try:
            conn.execute(f"PRAGMA busy_timeout = {int(self.busy_timeout * 1000)}")
            if wal:
                conn.execute("PRAGMA journal_mode = WAL")
                conn.execute("PRAGMA synchronous = NORMAL")
        except sqlite3.Error:
            conn.close()
            raise
        with contextlib.suppress(OSError):
            os.chmod(self.path, 0o600)
        return conn

    def _conn(self) -> sqlite3.Connection:
        with self._lock:
            if not self._ready:
                self._open_schema()
            generation = self._generation
        cached = getattr(self._local, "conn", None)
        if cached is not None and self._local.generation == generation:
            return cached
        if cached is not None:
            cached.close()
        conn = self._connect()
        self._local.conn, self._local.generation = conn, generation
        return conn

    def _open_schema(self) -> None:
        # Called under self._lock. Any failure here means the file is unusable: replace it.
        for attempt in range(2):
            try:
                conn = self._connect(wal=False)  # look before changing anything in the file
                try:
                    version = conn.execute("PRAGMA user_version").fetchone()[0]
                    if version > SCHEMA_VERSION:
                        raise _Unusable(f"it was written by a newer b24explorer (schema {version})")
                    if conn.execute("PRAGMA quick_check").fetchone()[0] != "ok":
                        raise sqlite3.DatabaseError("integrity check failed")
                    conn.execute("PRAGMA journal_mode = WAL")
                    conn.executescript(_SCHEMA)
                    _migrate(conn)
                    conn.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")
                finally:
                    conn.close()
                self._ready = True
                return
            except (sqlite3.Error, _Unusable) as exc:
                if attempt:
                    raise
                self._move_aside(exc)

    def _move_aside(self, exc: BaseException) -> None:
        stamp = time.strftime("%Y%m%d-%H%M%S")
        target = self.path.with_name(f"{self.path.stem}.broken-{stamp}{self.path.suffix}")
        moved = False
        for suffix in ("", "-wal", "-shm"):
            src = Path(str(self.path) + suffix)
            if src.exists():
                with contextlib.suppress(OSError):
                    os.replace(src, Path(str(target) + suffix))
                    moved = moved or suffix == ""
        self._generation += 1
        self._ready = False
        reason = _describe(exc)
        where = f"it was moved to {target.name}" if moved else "it could not be moved"
        self.notices.append(
            f"The history database could not be used ({reason}); {where} and a new, empty history was started."
        )

    def _run(self, op: Callable[[sqlite3.Connection], T]) -> T:
        """Runs ``op`` on this thread's connection; a corrupt or locked database is replaced once."""
        for attempt in range(2):
            try:
                return op(self._conn())
            except sqlite3.Error as exc:
                if attempt or not _is_unusable(exc):
                    raise
                with self._lock:
                    self._drop_local()
                    self._move_aside(exc)
        raise AssertionError("unreachable")

    def _drop_local(self) -> None:
        conn = getattr(self._local, "conn", None)
        if conn is not None:
            with contextlib.suppress(sqlite3.Error):
                conn.close()
            self._local.conn = None

    async def _in_worker(self, fn: Callable[..., T], *args: Any, **kwargs: Any) -> T:
        with self._lock:
            if self._executor is None:
                self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="b24x-history")
            executor = self._executor
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(executor, lambda: fn(*args, **kwargs))

    def close(self) -> None:
        """Closes this thread's connection and the worker's. The store reopens on its next use."""
        self._drop_local()
        with self._lock:
            executor, self._executor = self._executor, None
        if executor is not None:
            executor.submit(self._drop_local)
            executor.shutdown(wait=True)

    def open(self) -> list[str]:
        """Opens (or replaces a broken) database now instead of on first use; returns the notices so far."""
        self._run(lambda conn: conn.execute("SELECT 1").fetchone())
        return list(self.notices)

    async def aopen(self) -> list[str]:
        return await self._in_worker(self.open)

    # -- requests

    def record(
        self,
        *,
        connection: str,
        method: str,
        connection_name: str = "",
        api: int = 2,
        params: Any = None,
        request_id: str = "",
        status: int | None = None,
        duration: float | None = None,
        size: int | None = None,
        error_code: str | None = None,
        response: bytes | None = None,
        kind: str = "call",
        timestamp: float | None = None,
        secrets: Iterable[str] = (),
    ) -> int:
        """Stores one request and returns its id. ``secrets`` (e.g. the webhook's) are scrubbed everywhere."""
        secrets = tuple(s for s in secrets if s)
        truncated = False
        body: bytes | None = None
        if response is not None:
            if size is None:
                size = len(response)
            body = response
            if len(body) > self.response_cap:
                body, truncated = body[: self.response_cap], True
            body = scrub_body(body, secrets)
        row = (
            time.time() if timestamp is None else timestamp,
            redact_text(connection, secrets),
            redact_text(connection_name, secrets),
            kind,
            method,
            int(api),
            scrub_params(params, secrets),
            redact_text(request_id or "", secrets),
            status,
            duration,
            size,
            error_code,
            body,
            int(truncated),
        )

        def op(conn: sqlite3.Connection) -> int:
            cur = conn.execute(
                "INSERT INTO requests (ts, connection, connection_name, kind, method, api, params, request_id, status,"
                " duration, size, error_code, response, response_truncated) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
                row,
            )
            return int(cur.lastrowid or 0)

        return self._run(op)

    async def arecord(self, **fields: Any) -> int:
        return await self._in_worker(self.record, **fields)

    def record_outcome(self, outcome: RequestOutcome, secrets: Iterable[str] = ()) -> int:
        """Stores what happened to one request (see :class:`~b24explorer.core.outcome.RequestOutcome`)."""
        return self.record(
            connection=outcome.connection, connection_name=outcome.connection_name, kind=str(outcome.kind),
            method=outcome.method, api=outcome.api, params=outcome.params, request_id=outcome.request_id or "",
            status=outcome.status, duration=outcome.elapsed, size=outcome.size,
            error_code=outcome.error_code or None, response=outcome.response, timestamp=outcome.started_at,
            secrets=secrets,
        )

    async def arecord_outcome(self, outcome: RequestOutcome, secrets: Iterable[str] = ()) -> int:
        return await self._in_worker(self.record_outcome, outcome, secrets)

    def search(
        self,
        text: str = "",
        *,
        connection: str | None = None,
        errors_only: bool = False,
        limit: int = 200,
        offset: int = 0,
    ) -> list[HistoryEntry]:
        """Newest first. ``text`` matches the method, the params text or the error code (case-insensitive)."""
        where: list[str] = []
        args: list[Any] = []
        if text:
            like = "%" + text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
            where.append(
                "(method LIKE ? ESCAPE '\\' OR params LIKE ? ESCAPE '\\' OR IFNULL(error_code,'') LIKE ? ESCAPE '\\')"
            )
            args += [like, like, like]
        if connection is not None:  # an id, or the name of rows whose connection is not saved
            where.append("(connection = ? OR connection_name = ?)")
            args += [connection, connection]
        if errors_only:
            where.append("(IFNULL(error_code,'') <> '' OR IFNULL(status,0) >= 400)")
        sql = f"SELECT {_LIST_COLUMNS} FROM requests"
        if where:
            sql += " WHERE " + " AND ".join(where)
        sql += " ORDER BY id DESC LIMIT ? OFFSET ?"
        args += [limit, offset]
        return self._run(lambda conn: [_entry(r) for r in conn.execute(sql, args)])

    async def asearch(self, text: str = "", **kwargs: Any) -> list[HistoryEntry]:
        return await self._in_worker(self.search, text, **kwargs)

    def get(self, entry_id: int) -> HistoryEntry | None:
        def op(conn: sqlite3.Connection) -> HistoryEntry | None:
            row = conn.execute(f"SELECT {_FULL_COLUMNS} FROM requests WHERE id = ?", (entry_id,)).fetchone()
            return _entry(row) if row else None

        return self._run(op)

    async def aget(self, entry_id: int) -> HistoryEntry | None:
        return await self._in_worker(self.get, entry_id)

    def delete(self, entry_id: int) -> bool:
        return self._run(lambda conn: conn.execute("DELETE FROM requests WHERE id = ?", (entry_id,)).rowcount > 0)

    async def adelete(self, entry_id: int) -> bool:
        return await self._in_worker(self.delete, entry_id)

    def clear(self, connection: str | None = None) -> int:
        """Deletes every entry (of one connection, if given); saved requests are kept. Returns the count."""

        def op(conn: sqlite3.Connection) -> int:
            if connection is None:
                n = conn.execute("DELETE FROM requests").rowcount
            else:
                n = conn.execute("DELETE FROM requests WHERE connection = ?", (connection,)).rowcount
            conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
            return n

        return self._run(op)

    async def aclear(self, connection: str | None = None) -> int:
        return await self._in_worker(self.clear, connection)

    def count(self, connection: str | None = None) -> int:
        if connection is None:
            return self._run(lambda c: c.execute("SELECT COUNT(*) FROM requests").fetchone()[0])
        return self._run(
            lambda c: c.execute("SELECT COUNT(*) FROM requests WHERE connection = ?", (connection,)).fetchone()[0]
        )

    def link_connections(self, ids_by_name: dict[str, str]) -> int:
        """Rows of an older file name their connection; point them at its id (``{name: id}``). Returns the count.

        Only rows still keyed by that name are touched (their ``connection`` equals their ``connection_name``),
        so a connection renamed later never takes over another's rows.
        """

        def op(conn: sqlite3.Connection) -> int:
            count = 0
            for name, conn_id in ids_by_name.items():
                for table in ("requests", "saved_requests"):
                    count += conn.execute(
                        f"UPDATE OR IGNORE {table} SET connection = ? WHERE connection = ? AND connection_name = ?",
                        (conn_id, name, name)).rowcount
            return count

        return self._run(op)

    async def alink_connections(self, ids_by_name: dict[str, str]) -> int:
        return await self._in_worker(self.link_connections, ids_by_name)

    # -- saved requests

    def save_request(
        self, connection: str, name: str, method: str, params: Any = None, api: int = 2,
        secrets: Iterable[str] = (), kind: str = "", connection_name: str = "",
    ) -> int:
        """Saves (or overwrites, by connection and name) a named request; returns its id."""
        name = name.strip()
        if not name:
            raise ValueError("A saved request needs a name.")
        if not method.strip():
            raise ValueError("A saved request needs a method.")
        now = time.time()
        params_text = scrub_params(params, secrets)

        def op(conn: sqlite3.Connection) -> int:
            conn.execute(
                "INSERT INTO saved_requests (connection, name, method, api, params, created, updated, kind,"
                " connection_name) VALUES (?,?,?,?,?,?,?,?,?) ON CONFLICT(connection, name) DO UPDATE SET"
                " method = excluded.method, api = excluded.api, params = excluded.params, updated = excluded.updated,"
                " kind = excluded.kind, connection_name = excluded.connection_name",
                (connection, name, method, int(api), params_text, now, now, kind, connection_name),
            )
            row = conn.execute(
                "SELECT id FROM saved_requests WHERE connection = ? AND name = ?", (connection, name)
            ).fetchone()
            return int(row[0])

        return self._run(op)

    async def asave_request(self, connection: str, name: str, method: str, params: Any = None,
                            api: int = 2, secrets: Iterable[str] = (), kind: str = "",
                            connection_name: str = "") -> int:
        return await self._in_worker(self.save_request, connection, name, method, params, api, secrets, kind,
                                     connection_name)

    def saved_requests(self, connection: str | None = None) -> dict[str, list[SavedRequest]]:
        """Saved requests grouped by connection, each group sorted by name."""
        sql = "SELECT id, connection, name, method, api, params, created, updated, kind, connection_name" \
              " FROM saved_requests"
        args: tuple[Any, ...] = ()
        if connection is not None:
            sql += " WHERE connection = ?"
            args = (connection,)
        sql += " ORDER BY connection, name COLLATE NOCASE"
        groups: dict[str, list[SavedRequest]] = {}
        for row in self._run(lambda conn: conn.execute(sql, args).fetchall()):
            item = SavedRequest(*row)
            groups.setdefault(item.connection, []).append(item)
        return groups

    async def asaved_requests(self, connection: str | None = None) -> dict[str, list[SavedRequest]]:
        return await self._in_worker(self.saved_requests, connection)

    def rename_saved(self, saved_id: int, new_name: str) -> None:
        new_name = new_name.strip()
        if not new_name:
            raise ValueError("A saved request needs a name.")
        try:
            self._run(lambda conn: conn.execute(
                "UPDATE saved_requests SET name = ?, updated = ? WHERE id = ?", (new_name, time.time(), saved_id)))
        except sqlite3.IntegrityError:
            raise ValueError(f"A saved request named '{new_name}' already exists for this connection.") from None

    def delete_saved(self, saved_id: int) -> bool:
        return self._run(lambda conn: conn.execute("DELETE FROM saved_requests WHERE id = ?", (saved_id,)).rowcount > 0)

    async def adelete_saved(self, saved_id: int) -> bool:
        return await self._in_worker(self.delete_saved, saved_id)

    def iter_all(self) -> Iterator[HistoryEntry]:
        """Every entry with its body, oldest first (export, tests)."""
        rows = self._run(lambda conn: conn.execute(f"SELECT {_FULL_COLUMNS} FROM requests ORDER BY id").fetchall())
        return (_entry(r) for r in rows)


class _Unusable(Exception):
    pass


def _entry(row: tuple[Any, ...]) -> HistoryEntry:
    (id_, ts, connection, connection_name, kind, method, api, params, request_id, status, duration, size,
     error_code, response, truncated) = row
    return HistoryEntry(
        id=id_, timestamp=ts, connection=connection, connection_name=connection_name, kind=kind, method=method, api=api, params=params,
        request_id=request_id, status=status, duration=duration, size=size, error_code=error_code,
        response=bytes(response) if response is not None else None, response_truncated=bool(truncated),
    )


def _is_unusable(exc: sqlite3.Error) -> bool:
    if isinstance(exc, sqlite3.IntegrityError | sqlite3.ProgrammingError | sqlite3.InterfaceError):
        return False
    text = str(exc).lower()
    return isinstance(exc, sqlite3.DatabaseError) and any(
        marker in text
        for marker in ("malformed", "not a database", "locked", "disk i/o", "corrupt", "no such table", "busy")
    )


def _describe(exc: BaseException) -> str:
    text = str(exc)
    if "locked" in text.lower() or "busy" in text.lower():
        return "it is locked by another program"
    if isinstance(exc, _Unusable):
        return text
    return f"it is damaged: {text}"
