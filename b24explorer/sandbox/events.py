"""Events the sandbox portal fires: CRM and task writes become offline-queue records for apps bound with
``event_type=offline`` and POSTs to online handlers bound on loopback.

Queue semantics as documented for offline events: one record per object and event with the time of the last
change (a record already reserved by a process is left alone and a new one starts), ``event.offline.get`` takes
records (``clear=1``, the default, deletes them; ``clear=0`` reserves them under a ``process_id``),
``event.offline.list`` reads without changing anything, ``event.offline.clear`` deletes reserved records and
``event.offline.error`` marks them as erroneous. Online handlers get the documented form-encoded payload
(``event``, ``event_handler_id``, ``data``, ``ts``, ``auth`` with the app's tokens and ``application_token``).
"""

from __future__ import annotations

import datetime as dt
import functools
import hashlib
import secrets
import threading
import urllib.error
import urllib.request
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any
from urllib.parse import urlencode

from .oauth import App, AppHook, is_loopback_url
from .registry import Answer, ApiError, Ctx, as_int, as_list, truthy, v2

if TYPE_CHECKING:
    from .portal import Portal

PAGE = 50
POST_TIMEOUT = 5.0
_CRM = {"deal": "DEAL", "lead": "LEAD", "contact": "CONTACT", "company": "COMPANY"}
_CRM_BY_TYPE_ID = {1: "LEAD", 2: "DEAL", 3: "CONTACT", 4: "COMPANY"}
_VERBS = {"add": "ADD", "update": "UPDATE", "delete": "DELETE"}
_FIELDS = ("ID", "TIMESTAMP_X", "EVENT_NAME", "MESSAGE_ID", "PROCESS_ID", "ERROR")


@dataclass
class _Record:
    id: int
    event: str
    object_id: int
    data: dict[str, Any]
    message_id: str
    connector: str
    stamp: float
    process_id: str = ""
    error: bool = False

    def row(self, with_process: bool = True) -> dict[str, Any]:
        out: dict[str, Any] = {
            "ID": str(self.id),
            "TIMESTAMP_X": dt.datetime.fromtimestamp(self.stamp, dt.UTC).astimezone().isoformat(timespec="seconds"),
            "EVENT_NAME": self.event, "EVENT_DATA": self.data, "EVENT_ADDITIONAL": {"user_id": 1},
            "MESSAGE_ID": self.message_id}
        if with_process:
            out.update({"PROCESS_ID": self.process_id, "ERROR": "1" if self.error else "0"})
        return out


def event_for(method: str, params: dict[str, Any], result: Any) -> tuple[str, int] | None:
    """The event a successful write fires and the id of its object; None for a method that fires none."""
    parts = method.split(".")
    if len(parts) != 3 or parts[2] not in _VERBS:
        return None
    family, entity, verb = parts
    if family == "crm" and entity in _CRM:
        name = f"ONCRM{_CRM[entity]}{_VERBS[verb]}"
        object_id = result if verb == "add" else _param(params, "id")
    elif family == "crm" and entity == "item":
        kind = _CRM_BY_TYPE_ID.get(as_int(_param(params, "entityTypeId"), 0) or 0)
        if kind is None:
            return None
        name = f"ONCRM{kind}{_VERBS[verb]}"
        object_id = _dig(result, "item", "id") if verb == "add" else _param(params, "id")
    elif family == "tasks" and entity == "task":
        name = f"ONTASK{_VERBS[verb]}"
        if verb == "add":
            object_id = _dig(result, "task", "id") or _dig(result, "item", "id")
        else:
            object_id = _param(params, "taskId") or _param(params, "id")
    else:
        return None
    number = as_int(object_id)
    return (name, number) if number else None


def _param(params: dict[str, Any], name: str) -> Any:
    lower = name.lower()
    return next((v for k, v in params.items() if str(k).lower() == lower), None)


def _dig(value: Any, *path: str) -> Any:
    for key in path:
        value = value.get(key) if isinstance(value, dict) else None
    return value


def event_data(event: str, object_id: int) -> dict[str, Any]:
    """`data` of an event as the docs show it: FIELDS.ID for CRM, FIELDS_AFTER/FIELDS_BEFORE for tasks."""
    if event.startswith("ONTASK"):
        after = "undefined" if event == "ONTASKDELETE" else {"ID": object_id}
        before = {"ID": object_id} if event != "ONTASKADD" else "undefined"
        return {"FIELDS_BEFORE": before, "FIELDS_AFTER": after}
    return {"FIELDS": {"ID": object_id}}


class EventHub:
    """Bindings live on the App (event.bind rows); the offline queue and delivery live here."""

    def __init__(self, portal: Portal) -> None:
        self.portal = portal
        self.offline_extended = True  # what feature.get answers for rest_offline_extended
        self.host = "127.0.0.1"  # host:port the online payload names; the server sets it when it starts
        self.delivered: list[tuple[str, int]] = []  # (handler URL, HTTP status or 0 for a failure)
        self.refused: list[str] = []  # handler URLs off loopback: the sandbox never calls out of this machine
        self._queue: list[_Record] = []
        self._next_id = 1
        self._last_hint = 0.0
        self._pending: list[tuple[str, bytes]] = []
        self._posting = threading.Lock()

    # --- firing ---------------------------------------------------------------------------------------

    def after_write(self, ctx: Ctx, result: Any) -> None:
        found = event_for(ctx.method, ctx.params, result)
        if found is None:
            return
        event, object_id = found
        app = self.portal.oauth.app
        now = self.portal.clock()
        for row in list(app.events):
            if row["event"] != event:
                continue
            if row["offline"]:
                self._enqueue(event, object_id, row.get("connector", ""), now)
            else:
                self._post_later(app, row, event, event_data(event, object_id), now)
        if any(r["offline"] and r["event"] == event for r in app.events):
            self._hint(app, now)
        self.flush()

    def _enqueue(self, event: str, object_id: int, connector: str, now: float) -> None:
        message_id = hashlib.md5(f"{event}|{object_id}|{connector}".encode()).hexdigest()
        for record in self._queue:
            if (record.event, record.object_id, record.connector) == (event, object_id, connector) \
                    and not record.process_id and not record.error:
                record.stamp = now  # the last change wins: one record per object
                return
        record = _Record(self._next_id, event, object_id, event_data(event, object_id), message_id, connector, now)
        self._next_id += 1
        self._queue.append(record)
        self.portal.store.journal_undo(lambda: self._queue.remove(record))  # a rolled-back v3 batch fired nothing

    def _hint(self, app: App, now: float) -> None:
        """ONOFFLINEEVENT to its online handlers, at most once per `minTimeout` seconds (default 1)."""
        for row in app.events:
            if row["event"] == "ONOFFLINEEVENT" and not row["offline"]:
                timeout = as_int(_dig(row.get("options"), "minTimeout"), 1) or 1
                if now - self._last_hint >= timeout:
                    self._last_hint = now
                    self._post_later(app, row, "ONOFFLINEEVENT", [], now)

    def _post_later(self, app: App, row: dict[str, Any], event: str, data: Any, now: float) -> None:
        auth = self.portal.oauth.event_auth(app, as_int(row.get("auth_type"), 0) or 1, self.host)
        payload = {"event": event, "event_handler_id": str(row["id"]), "data": data, "ts": str(int(now)),
                   "auth": {**auth, "application_token": app.application_token}}
        self._pending.append((row["handler"], php_form(payload)))

    def flush(self) -> None:
        """POST what is pending on a thread of its own: a slow handler never holds the portal's lock."""
        pending, self._pending = self._pending, []
        self.refused.extend(url for url, _ in pending if not is_loopback_url(url))
        pending = [(url, body) for url, body in pending if is_loopback_url(url)]
        if pending:
            threading.Thread(target=self._post_all, args=(pending,), name="b24-sandbox-events", daemon=True).start()

    def _post_all(self, pending: list[tuple[str, bytes]]) -> None:
        with self._posting:  # in firing order
            for url, body in pending:
                request = urllib.request.Request(url, data=body, method="POST", headers={
                    "Content-Type": "application/x-www-form-urlencoded", "User-Agent": "Bitrix24 Webhook Engine"})
                try:
                    with urllib.request.build_opener(urllib.request.ProxyHandler({})).open(
                            request, timeout=POST_TIMEOUT) as answer:
                        self.delivered.append((url, answer.status))
                except urllib.error.HTTPError as refused:
                    self.delivered.append((url, refused.code))
                except OSError:
                    self.delivered.append((url, 0))

    # --- the queue ------------------------------------------------------------------------------------

    def take(self, params: dict[str, Any]) -> dict[str, Any]:
        connector = str(_param(params, "auth_connector") or "")
        process_id = str(_param(params, "process_id") or "")
        clear = truthy(_param(params, "clear")) if _param(params, "clear") is not None else True
        errors = truthy(_param(params, "error") or 0)
        rows = [r for r in self._queue if r.connector == connector and r.process_id == process_id
                and r.error == errors]
        rows = _select(rows, _param(params, "filter"), _param(params, "order") or {"TIMESTAMP_X": "ASC"})
        limit = as_int(_param(params, "limit"), PAGE) or PAGE
        rows = rows[:max(1, limit)]
        if clear:
            taken = {id(r) for r in rows}
            self._queue = [r for r in self._queue if id(r) not in taken]
            answer_process: str | None = None
        else:
            answer_process = process_id or secrets.token_hex(16)
            for r in rows:
                r.process_id = answer_process
        return {"process_id": answer_process, "events": [r.row(with_process=False) for r in rows]}

    def listing(self, params: dict[str, Any]) -> tuple[list[dict[str, Any]], int, int | None]:
        connector = str(_param(params, "auth_connector") or "")
        rows = _select([r for r in self._queue if r.connector == connector], _param(params, "filter"),
                       _param(params, "order") or {"ID": "ASC"})
        start = max(0, as_int(_param(params, "start"), 0) or 0)
        page = rows[start:start + PAGE]
        return [r.row() for r in page], len(rows), start + PAGE if start + PAGE < len(rows) else None

    def clear(self, params: dict[str, Any]) -> None:
        process_id = _process_id(params)
        ids = {str(v) for v in as_list(_param(params, "id"))}
        messages = {str(v) for v in as_list(_param(params, "message_id"))}
        self._queue = [r for r in self._queue if not (
            r.process_id == process_id and (str(r.id) in ids if ids else r.message_id in messages if messages
                                            else True))]

    def mark_error(self, params: dict[str, Any]) -> None:
        process_id = _process_id(params)
        messages = {str(v) for v in as_list(_param(params, "message_id"))}
        for r in self._queue:
            if r.process_id == process_id and (not messages or r.message_id in messages):
                r.error, r.process_id = True, ""

    def forget(self) -> None:
        self._queue.clear()


def _process_id(params: dict[str, Any]) -> str:
    value = _param(params, "process_id")
    if value is None or not str(value).strip():
        raise ApiError(400, "ERROR_ARGUMENT", "Argument 'process_id' is null or empty")
    return str(value).strip()


def _select(rows: list[_Record], flt: Any, order: Any) -> list[_Record]:
    """The documented filter (`=`, `!`, `>`, `<`, `>=`, `<=` before the field name) and order on the queue's
    fields."""
    for key, want in (flt.items() if isinstance(flt, dict) else []):
        op, field = _split_key(str(key))
        if field not in _FIELDS:
            raise ApiError(400, "ERROR_ARGUMENT", f"Unknown filter field: {field}")
        rows = [r for r in rows if _compare(_value(r, field), op, want, field)]
    for key, direction in reversed(list(order.items()) if isinstance(order, dict) else []):
        field = str(key).upper()
        if field in _FIELDS:
            rows = sorted(rows, key=functools.partial(_row_sort_key, field),
                          reverse=str(direction).upper() == "DESC")
    return rows


def _split_key(key: str) -> tuple[str, str]:
    for op in (">=", "<=", "!=", "=", ">", "<", "!"):
        if key.startswith(op):
            return op, key[len(op):].upper()
    return "=", key.upper()


def _value(record: _Record, field: str) -> Any:
    return {"ID": record.id, "TIMESTAMP_X": int(record.stamp),  # the portal keeps whole seconds "EVENT_NAME": record.event, "MESSAGE_ID": record.message_id,
            "PROCESS_ID": record.process_id, "ERROR": 1 if record.error else 0}[field]


def _sort_key(value: Any) -> tuple[int, Any]:
    return (0, value) if isinstance(value, int | float) else (1, str(value))


def _compare(value: Any, op: str, want: Any, field: str) -> bool:
    if field == "TIMESTAMP_X" and isinstance(want, str) and as_int(want) is None:
        try:
            want = dt.datetime.fromisoformat(want).timestamp()
        except ValueError:
            return False
    if isinstance(value, int):
        number = as_int(want)
        if number is None:
            return False
        left: Any = value
        right: Any = number
    else:
        left, right = str(value).upper(), str(want).upper()
    return {"=": left == right, "!": left != right, "!=": left != right, ">": left > right, "<": left < right,
            ">=": left >= right, "<=": left <= right}[op]


def php_form(value: Any, prefix: str = "") -> bytes:
    """A nested payload as PHP's http_build_query writes it (`data[FIELDS][ID]=5`), as the portal POSTs."""
    pairs: list[tuple[str, str]] = []

    def walk(node: Any, key: str) -> None:
        if isinstance(node, dict):
            for k, v in node.items():
                walk(v, f"{key}[{k}]" if key else str(k))
        elif isinstance(node, list):
            for i, v in enumerate(node):
                walk(v, f"{key}[{i}]" if key else str(i))
        elif node is not None:
            pairs.append((key, "1" if node is True else "" if node is False else str(node)))

    walk(value, prefix)
    return urlencode(pairs).encode("ascii")


# --- the methods -----------------------------------------------------------------------------------------

def _admin_app(ctx: Ctx) -> App:
    """The app of an app-context call by an administrator; webhooks get the documented app-context error."""
    hook = ctx.hook
    if not isinstance(hook, AppHook):
        raise ApiError(403, "WRONG_AUTH_TYPE", "Current authorization type is denied for this method. Application "
                                               "context required")
    if hook.user_id not in ctx.portal.admins:
        raise ApiError(403, "ACCESS_DENIED", "Access denied!")
    return hook.app


@v2("event.offline.get", "", cost=0.01, write=True)
def offline_get(ctx: Ctx) -> Answer:
    _admin_app(ctx)
    return Answer(ctx.portal.events.take(ctx.params))


@v2("event.offline.list", "", cost=0.01)
def offline_list(ctx: Ctx) -> Answer:
    _admin_app(ctx)
    rows, total, nxt = ctx.portal.events.listing(ctx.params)
    return Answer(rows, total, nxt)


@v2("event.offline.clear", "", cost=0.01, write=True)
def offline_clear(ctx: Ctx) -> Answer:
    _admin_app(ctx)
    ctx.portal.events.clear(ctx.params)
    return Answer(True)


@v2("event.offline.error", "", cost=0.01, write=True)
def offline_error(ctx: Ctx) -> Answer:
    _admin_app(ctx)
    ctx.portal.events.mark_error(ctx.params)
    return Answer(True)


def next_binding_id(app: App) -> int:
    return max((int(r.get("id", 0)) for r in app.events), default=0) + 1


def check_binding(ctx: Ctx, row: dict[str, Any]) -> None:
    """event.bind's own checks: offline binding and another user's auth_type need an administrator; the sandbox
    binds any handler URL but calls only those on loopback (see EventHub.refused)."""
    hook = ctx.hook
    admin = hook.user_id in ctx.portal.admins
    if row["offline"] and not admin:
        raise ApiError(403, "ACCESS_DENIED", "Access denied! Offline events binding requires administrator "
                                             "access rights")
    if int(row["auth_type"]) not in (0, hook.user_id) and not admin:
        raise ApiError(403, "ACCESS_DENIED", "Access denied! Event binding with AUTH_TYPE requires administrator "
                                             "access rights")


def _row_sort_key(field: str, row: Any) -> Any:
    return _sort_key(_value(row, field))
