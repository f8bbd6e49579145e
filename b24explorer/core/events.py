"""Offline events over an application connection: bind and unbind, the feature check, the queue as typed
records (newest first), a poller, and the call that opens a record's object.

`event.offline.*` and `event.bind` work in an application's context only, by an administrator; a webhook
connection gets the portal's own error (AjaxError) from every call here.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from .errors import AjaxError

if TYPE_CHECKING:
    from .client import B24Client

OFFLINE_FEATURE = "rest_offline_extended"
DOC_OFFLINE = "api-reference/events/offline-events.md"
LIST_PAGE = 50
MAX_LIST_PAGES = 20  # a keep-mode pull reads at most 1000 records of the queue
MIN_INTERVAL_S = 1.0

_CRM_OBJECTS = {"DEAL": "crm.deal.get", "LEAD": "crm.lead.get", "CONTACT": "crm.contact.get",
                "COMPANY": "crm.company.get"}


@dataclass(frozen=True)
class OfflineEvent:
    """One record of the portal's offline-event queue."""

    event: str
    object_id: int | None
    time: dt.datetime | None
    message_id: str
    record_id: int
    process_id: str = ""
    error: bool = False
    data: Any = None

    @classmethod
    def from_row(cls, row: dict[str, Any], process_id: str | None = None) -> OfflineEvent:
        data = row.get("EVENT_DATA")
        return cls(event=str(row.get("EVENT_NAME") or "").upper(), object_id=object_id_of(data),
                   time=_parse_time(row.get("TIMESTAMP_X")), message_id=str(row.get("MESSAGE_ID") or ""),
                   record_id=_int(row.get("ID")) or 0,
                   process_id=str(process_id if process_id is not None else row.get("PROCESS_ID") or ""),
                   error=str(row.get("ERROR") or "0") not in ("0", "", "N", "False"), data=data)

    @property
    def key(self) -> tuple[int, str]:
        """Identity of this state of the record: a later change of the same object moves its time."""
        return self.record_id, self.time.isoformat() if self.time else ""

    def to_dict(self) -> dict[str, Any]:
        return {"event": self.event, "object_id": self.object_id,
                "time": self.time.isoformat() if self.time else None, "message_id": self.message_id,
                "id": self.record_id, "process_id": self.process_id, "error": self.error}


@dataclass(frozen=True)
class Pull:
    """What one pull read: the records newest first, and the process that reserved them (take without clear)."""

    records: list[OfflineEvent]
    process_id: str | None = None
    cleared: bool = False


@dataclass(frozen=True)
class FeatureCheck:
    available: bool
    note: str


@dataclass(frozen=True)
class Binding:
    event: str
    handler: str
    offline: bool
    auth_type: int = 0


@dataclass(frozen=True)
class BindOutcome:
    event: str
    bound: bool  # False: it was bound already
    note: str = ""


@dataclass(frozen=True)
class ObjectCall:
    """The call that reads an event's object, for the request editor or `b24x call`."""

    method: str
    params: dict[str, Any] = field(default_factory=dict)


def object_id_of(data: Any) -> int | None:
    """The object's id in an event's data: FIELDS.ID (CRM), FIELDS_AFTER.ID / FIELDS_BEFORE.ID (tasks)."""
    if not isinstance(data, dict):
        return None
    for key in ("FIELDS", "FIELDS_AFTER", "FIELDS_BEFORE"):
        block = data.get(key)
        if isinstance(block, dict) and _int(block.get("ID")) is not None:
            return _int(block.get("ID"))
    return _int(data.get("ID"))


def object_call(event: str, object_id: int | None) -> ObjectCall | None:
    """ONCRMDEALUPDATE 5 → crm.deal.get {"id": 5}; ONTASKADD 7 → tasks.task.get {"taskId": 7}. None where the
    object is gone (a *DELETE event), has no id, or is of a kind this map does not know."""
    name = event.upper()
    if object_id is None or name.endswith("DELETE"):
        return None
    if name.startswith("ONCRM"):
        for kind, method in _CRM_OBJECTS.items():
            if name.startswith(f"ONCRM{kind}") and name[len(f"ONCRM{kind}"):] in ("ADD", "UPDATE"):
                return ObjectCall(method, {"id": object_id})
        return None
    if name in ("ONTASKADD", "ONTASKUPDATE"):
        return ObjectCall("tasks.task.get", {"taskId": object_id})
    return None


def newest_first(records: Iterable[OfflineEvent]) -> list[OfflineEvent]:
    floor = dt.datetime.min.replace(tzinfo=dt.UTC)
    return sorted(records, key=lambda r: (r.time or floor, r.record_id), reverse=True)


class EventsService:
    """The offline-events calls of one client (an application connection)."""

    def __init__(self, client: B24Client) -> None:
        self.client = client

    async def feature_check(self) -> FeatureCheck:
        result = await self.client.call("feature.get", {"CODE": OFFLINE_FEATURE})
        value = result.result.get("value") if isinstance(result.result, dict) else result.result
        if str(value).upper() in ("Y", "TRUE", "1"):
            return FeatureCheck(True, "Offline events with confirmed processing are available on this portal.")
        return FeatureCheck(False, f"This portal's plan lacks {OFFLINE_FEATURE}: reserving records for "
                                   "confirmed processing (take without clearing, then clear or mark as errors) is "
                                   "not available; take-and-clear may still work. See the docs: "
                                   f"{DOC_OFFLINE}.")

    async def bind(self, events: Iterable[str], *, offline: bool = True, handler: str = "",
                   auth_connector: str = "") -> list[BindOutcome]:
        outcomes = []
        for name in events:
            params: dict[str, Any] = {"event": name.upper(), "handler": handler}
            if offline:
                params["event_type"] = "offline"
            if auth_connector:
                params["auth_connector"] = auth_connector
            try:
                await self.client.call("event.bind", params)
            except AjaxError as err:
                if err.code != "ERROR_HANDLER_ALREADY_BINDED":
                    raise
                outcomes.append(BindOutcome(name.upper(), False, "bound already"))
                continue
            outcomes.append(BindOutcome(name.upper(), True))
        return outcomes

    async def unbind(self, events: Iterable[str], *, offline: bool = True, handler: str = "") -> dict[str, int]:
        """How many bindings each event lost."""
        counts = {}
        for name in events:
            params: dict[str, Any] = {"event": name.upper(), "event_type": "offline" if offline else "online"}
            if handler:
                params["handler"] = handler
            result = await self.client.call("event.unbind", params)
            counts[name.upper()] = _int(result.result.get("count")) or 0 if isinstance(result.result, dict) else 0
        return counts

    async def bindings(self) -> list[Binding]:
        result = await self.client.call("event.get")
        rows = result.result if isinstance(result.result, list) else []
        return [Binding(str(r.get("event", "")).upper(), str(r.get("handler", "")),
                        str(r.get("offline", "0")) not in ("0", "", "N"), _int(r.get("auth_type")) or 0)
                for r in rows if isinstance(r, dict)]

    async def pull(self, *, keep: bool = False, limit: int = LIST_PAGE) -> Pull:
        """keep: `event.offline.list`, the queue as it is (every page up to 1000 records); otherwise
        `event.offline.get`, which takes up to `limit` records and clears them."""
        if keep:
            rows: list[Any] = []
            start = 0
            for _ in range(MAX_LIST_PAGES):
                result = await self.client.call("event.offline.list", {"start": start})
                page = result.result if isinstance(result.result, list) else []
                rows.extend(page)
                if result.next is None or not page:
                    break
                start = result.next
            return Pull(newest_first(OfflineEvent.from_row(r) for r in rows if isinstance(r, dict)))
        return await self._get({"clear": 1, "limit": limit}, cleared=True)

    async def reserve(self, *, limit: int = LIST_PAGE, flt: dict[str, Any] | None = None) -> Pull:
        """`event.offline.get` with clear=0: the records stay, reserved under the answer's process_id."""
        params: dict[str, Any] = {"clear": 0, "limit": limit}
        if flt:
            params["filter"] = flt
        return await self._get(params, cleared=False)

    async def clear(self, process_id: str, *, message_ids: Iterable[str] = ()) -> None:
        params: dict[str, Any] = {"process_id": process_id}
        ids = list(message_ids)
        if ids:
            params["message_id"] = ids
        await self.client.call("event.offline.clear", params)

    async def mark_error(self, process_id: str, message_ids: Iterable[str]) -> None:
        await self.client.call("event.offline.error", {"process_id": process_id, "message_id": list(message_ids)})

    async def clear_shown(self, records: Iterable[OfflineEvent]) -> int:
        """Clear what a keep-mode pull showed: reserve exactly those records (by id, not changed since they were
        read), then clear that process. A record whose object changed after it was shown stays in the queue."""
        shown = [r for r in records if r.record_id]
        if not shown:
            return 0
        newest = max((r.time for r in shown if r.time), default=None)
        flt: dict[str, Any] = {">=ID": min(r.record_id for r in shown), "<=ID": max(r.record_id for r in shown)}
        if newest is not None:
            flt["<=TIMESTAMP_X"] = newest.isoformat()
        reserved = await self.reserve(limit=max(LIST_PAGE, len(shown)), flt=flt)
        if reserved.process_id is None or not reserved.records:
            return 0
        await self.clear(reserved.process_id, message_ids=[r.message_id for r in reserved.records])
        return len(reserved.records)

    async def _get(self, params: dict[str, Any], *, cleared: bool) -> Pull:
        result = await self.client.call("event.offline.get", params)
        body = result.result if isinstance(result.result, dict) else {}
        process = body.get("process_id") or None
        found = body.get("events")
        rows: list[Any] = found if isinstance(found, list) else []
        records = [OfflineEvent.from_row(r, process or "") for r in rows if isinstance(r, dict)]
        return Pull(newest_first(records), str(process) if process else None, cleared)


OnRecords = Callable[[list[OfflineEvent]], Awaitable[None] | None]
OnError = Callable[[Exception], Awaitable[None] | None]


class EventPoller:
    """Pulls at an interval until cancelled; hands each new record (or new state of a record) to `on_records`,
    newest first. In keep mode a record already handed on is not handed on again until its object changes."""

    def __init__(self, service: EventsService, on_records: OnRecords, *, interval_s: float = 5.0,
                 keep: bool = True, on_error: OnError | None = None) -> None:
        self.service = service
        self.on_records = on_records
        self.on_error = on_error
        self.interval_s = max(MIN_INTERVAL_S, float(interval_s))
        self.keep = keep
        self.polls = 0
        self._seen: set[tuple[int, str]] = set()
        self._task: asyncio.Task[None] | None = None
        self._wake = asyncio.Event()

    @property
    def running(self) -> bool:
        return self._task is not None and not self._task.done()

    def start(self) -> None:
        if not self.running:
            self._task = asyncio.get_running_loop().create_task(self._run(), name="events-poller")

    def poke(self) -> None:
        """Poll now (the portal's ONOFFLINEEVENT hint arrived)."""
        self._wake.set()

    async def cancel(self) -> None:
        task, self._task = self._task, None
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task

    async def poll_once(self) -> list[OfflineEvent]:
        pull = await self.service.pull(keep=self.keep)
        self.polls += 1
        fresh = [r for r in pull.records if r.key not in self._seen]
        if self.keep:
            self._seen = {r.key for r in pull.records}  # forget what left the queue
        if fresh:
            await _maybe_await(self.on_records(fresh))
        return fresh

    async def _run(self) -> None:
        while True:
            try:
                await self.poll_once()
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # a failed poll is reported and the next one tries again
                if self.on_error is not None:
                    await _maybe_await(self.on_error(exc))
            self._wake.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), self.interval_s)


async def _maybe_await(value: Awaitable[None] | None) -> None:
    if value is not None:
        await value


def _int(value: Any) -> int | None:
    if isinstance(value, bool):
        return None
    try:
        return int(str(value).strip())
    except (TypeError, ValueError):
        return None


def _parse_time(value: Any) -> dt.datetime | None:
    if not isinstance(value, str) or not value:
        return None
    try:
        parsed = dt.datetime.fromisoformat(value)
    except ValueError:
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=dt.UTC)
