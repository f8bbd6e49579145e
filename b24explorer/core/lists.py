"""List-all helpers: every item of a list method, in as few HTTP requests as the protocol allows.

v2 uses Bitrix's "huge data" fast path (`start=-1` on every page, so the portal never counts the table; order
by id, `>ID` cursor). The first request is one plain page: a list shorter than a page costs one request and
no chained command. After a full page the cursor is chained inside batches — command `p{k}` filters on
`$result[p{k-1}][…][49][ID]` — so one request carries 50 pages: N items cost at most 1 + ceil(N/2500)
requests (10,000 in 5). Rows of commands past the end of the list (their reference resolved against a
short page) are never read. v3 uses the filter-triple keyset (or the native `cursor` of `*.tail` methods).

Every walk is guarded: the cursor must advance on every page (a stalled, backward or cycling cursor stops
the walk with an error, checked before a short page is taken as the end), and at most `max_pages` pages
(10,000 by default) are read.

`fetch_*` are async iterators of pages (a cancelled consumer keeps what it got); `call_*` collect everything
into a ListResult and stop early — keeping what arrived — on an error or when `cancel` is set.
"""

from __future__ import annotations

import asyncio
import contextlib
import inspect
import operator
import time
from collections import deque
from collections.abc import AsyncGenerator, Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from .encoding import batch_command, encode_value, php_query
from .errors import AjaxError, SdkError, ensure_json_params
from .lazyjson import LazyArray, LazyObject, materialize
from .result import ListResult

if TYPE_CHECKING:
    from .client import B24Client

V2_PAGE_SIZE = 50
CHAIN_LENGTH = 50  # commands per batch
MAX_PAGES = 10_000  # pages per walk before it stops with LIST_MAX_PAGES_EXCEEDED (the JS SDK's maxPages)


@dataclass(frozen=True)
class ListKeys:
    id_key: str  # the id field in returned rows
    cursor_id_key: str  # the id field in filter/order
    result_key: str | None  # rows under result[result_key], or result itself


# Method families whose answers wrap rows or spell the id differently.
_V2_KEYS: dict[str, ListKeys] = {
    "crm.item.list": ListKeys("id", "id", "items"),
    "tasks.task.list": ListKeys("id", "ID", "tasks"),
    "crm.type.list": ListKeys("id", "id", "types"),
    "crm.automatedsolution.list": ListKeys("id", "id", "automatedSolutions"),
    "crm.item.productrow.list": ListKeys("id", "id", "productRows"),
    "tasks.task.result.list": ListKeys("id", "id", None),
}


def default_keys(method: str, api: int = 2) -> ListKeys:
    if api == 3:
        return ListKeys("id", "id", "items")
    return _V2_KEYS.get(method.lower(), ListKeys("ID", "ID", None))


@dataclass
class ListProgress:
    """Handed to the progress callback after each request."""

    method: str
    items: int = 0
    requests: int = 0
    pages: int = 0
    elapsed: float = 0.0
    waited: float = 0.0  # seconds spent in rate-limit / retry waits
    done: bool = False
    total: int | None = None  # the list's size when the portal reported it (v2: the first page's `total`)


Progress = Callable[[ListProgress], Any]


@dataclass
class _Run:
    client: B24Client
    method: str
    progress_cb: Progress | None
    cancel: Any
    request_id: str | None
    log_label: str
    max_pages: int = MAX_PAGES
    state: ListProgress = field(init=False)
    errors: list[AjaxError] = field(default_factory=list)
    cancelled: bool = False
    complete: bool = False
    stop_reason: str | None = None  # why a walk stopped early without an error (an unreadable cursor)
    seen: set[str] = field(default_factory=set)
    _t0: float = field(default_factory=time.perf_counter)
    _waited0: float = 0.0
    _sent0: int = 0

    def __post_init__(self) -> None:
        if self.max_pages < 1:
            raise SdkError("JSSDK_INVALID_PARAMS", "max_pages must be at least 1", 400)
        self.state = ListProgress(self.method)
        self._waited0 = self.client.waited
        self._sent0 = self.client.requests_sent

    def _requests(self) -> int:
        """Every HTTP request made while listing (the client's one-time v3 method look-up included)."""
        return self.client.requests_sent - self._sent0

    def is_cancelled(self) -> bool:
        c = self.cancel
        if c is None:
            return False
        flag = c.is_set() if hasattr(c, "is_set") else c()
        if flag:
            self.cancelled = True
        return bool(flag)

    async def guarded(self, coro: Any) -> Any:
        """Run one request; if `cancel` (an asyncio.Event) fires meanwhile, abandon it and return None."""
        if not isinstance(self.cancel, asyncio.Event):
            return await coro
        request = asyncio.ensure_future(coro)
        waiter = asyncio.ensure_future(self.cancel.wait())
        try:
            await asyncio.wait({request, waiter}, return_when=asyncio.FIRST_COMPLETED)
        except BaseException:  # this task was cancelled (a prefetch the list dropped): the request goes too
            waiter.cancel()
            request.cancel()
            await asyncio.gather(request, waiter, return_exceptions=True)
            raise
        waiter.cancel()
        if request.done():
            return request.result()
        request.cancel()
        await asyncio.gather(request, return_exceptions=True)  # the answer no longer matters
        self.cancelled = True
        return None

    def dedupe(self, rows: list[Any], id_key: str) -> list[Any]:
        fresh = self._all_new(rows, id_key)
        if fresh is not None:
            self.seen |= fresh
            return rows
        out = []
        for row in rows:
            ident = row.get(id_key) if type(row) is dict or isinstance(row, Mapping) else None  # dict: cheap
            if ident is None:
                out.append(row)
                continue
            key = str(ident)
            if key in self.seen:
                continue
            self.seen.add(key)
            out.append(row)
        return out

    def _all_new(self, rows: list[Any], id_key: str) -> set[str] | None:
        """The ids of a page of rows that all carry distinct ids not seen before (the usual case, checked in
        bulk); None when the page needs the row-by-row pass."""
        try:
            idents = list(map(operator.itemgetter(id_key), rows))
        except (KeyError, TypeError, IndexError, AttributeError):  # a row without the id, or not an object
            return None
        if None in idents:
            return None
        keys = set(map(str, idents))
        if len(keys) != len(rows) or not self.seen.isdisjoint(keys):
            return None
        return keys

    async def report(self, *, items: int = 0, pages: int = 0, done: bool = False) -> None:
        s = self.state
        s.items += items
        s.pages += pages
        s.requests = self._requests()
        s.waited = self.client.waited - self._waited0
        s.elapsed = time.perf_counter() - self._t0
        s.done = done
        if self.progress_cb is not None:
            try:
                outcome = self.progress_cb(s)
                if inspect.isawaitable(outcome):
                    await outcome
            except Exception as exc:  # a broken progress bar must not stop the download
                self.client.log.warning(
                    "LIST_PROGRESS_CALLBACK_FAILED", f"progress callback failed: {exc!r}", method=self.method
                )

    def warn_order(self, params: dict[str, Any]) -> None:
        if "order" in params:
            params.pop("order")
            self.client.log.warning(
                "LIST_ORDER_IGNORED",
                f"{self.log_label}: user-provided `order` parameter is ignored because cursor-based pagination "
                "requires ordering by the cursor id",
                method=self.method,
            )

    def fail(self, error: AjaxError) -> None:
        if error.code == "ERROR_METHOD_NOT_FOUND" and error.method == self.method:
            self.client.explain_v3_only(error, self.method)
        self.errors.append(error)
        self.client.log.error(
            "LIST_STOPPED",
            f"{self.log_label}: stopped after {self.state.items} items: {error.code}: {error.message}",
            method=self.method,
            request_id=error.request_id,
        )

    def _incomplete_reason(self) -> str | None:
        if self.complete and not self.errors:
            return None
        if self.errors:
            first = self.errors[0]
            return f"{first.code}: {first.message}"
        if self.cancelled:
            return "cancelled"
        return self.stop_reason or "stopped before the end of the list"

    def result(self, items: list[Any]) -> ListResult:
        return ListResult(
            items=items,
            requests=self._requests(),
            errors=list(self.errors),
            cancelled=self.cancelled,
            complete=self.complete,
            incomplete_reason=self._incomplete_reason(),
            pages=self.state.pages,
            elapsed=time.perf_counter() - self._t0,
            waited=self.client.waited - self._waited0,
        )


def _rows(result: Any, keys: ListKeys) -> list[Any] | None:
    """Rows of one page, or None when the answer has no list where expected."""
    if keys.result_key is None:
        return result if isinstance(result, list) else None
    if isinstance(result, Mapping):
        rows = result.get(keys.result_key)
        return rows if isinstance(rows, list) else None
    return None


def _detect_keys(result: Any, keys: ListKeys, explicit_result_key: bool, explicit_id_key: bool) -> ListKeys:
    """Adapt to the answer's shape when the caller gave no keys: a single wrapped list, lower-case ids."""
    result_key, id_key = keys.result_key, keys.id_key
    if not explicit_result_key and isinstance(result, Mapping):
        lists = [k for k, v in result.items() if isinstance(v, list)]
        if len(lists) == 1 and result_key not in result:
            result_key = lists[0]
    rows = _rows(result, ListKeys(id_key, keys.cursor_id_key, result_key))
    if not explicit_id_key and rows and isinstance(rows[0], Mapping) and id_key not in rows[0]:
        for candidate in ("ID", "id", "Id"):
            if candidate in rows[0]:
                id_key = candidate
                break
    return ListKeys(id_key, keys.cursor_id_key, result_key)


def _cursor(row: Any, id_key: str) -> int | None:
    try:
        return int(str(row[id_key]))
    except (KeyError, TypeError, ValueError, IndexError):
        return None


def _ref_path(label: str, keys: ListKeys) -> str:
    wrap = f"[{keys.result_key}]" if keys.result_key else ""
    return f"$result[{label}]{wrap}[{V2_PAGE_SIZE - 1}][{keys.id_key}]"


def _page_params(params: dict[str, Any], keys: ListKeys, cursor: Any) -> dict[str, Any]:
    raw_filter = params.get("filter")
    flt = dict(raw_filter) if isinstance(raw_filter, Mapping) else {}
    flt[f">{keys.cursor_id_key}"] = cursor
    return {**params, "filter": flt, "order": {keys.cursor_id_key: "ASC"}, "start": -1}


def _select_cursor(params: dict[str, Any], field_name: str) -> None:
    """The cursor needs the id of every row: add it to an explicit `select` that left it out."""
    select = params.get("select")
    if (
        isinstance(select, list)
        and select
        and "*" not in select
        and field_name.lower() not in {str(f).lower() for f in select}
    ):
        params["select"] = [*select, field_name]


def _initial_cursor(params: dict[str, Any], keys: ListKeys) -> int:
    """A user's own `>ID` filter becomes the starting cursor (the cursor key replaces it on every page)."""
    flt = params.get("filter")
    if not isinstance(flt, Mapping):
        return 0
    for key in list(flt):
        if str(key).lower() == f">{keys.cursor_id_key}".lower():
            value = flt[key]
            try:
                return max(0, int(str(value)))
            except ValueError:
                return 0
    return 0


def _prepare(run: _Run, params: Mapping[str, Any] | None, *, v3: bool) -> dict[str, Any]:
    if params is not None and not isinstance(params, Mapping):
        raise SdkError("JSSDK_INVALID_PARAMS", "List params must be a JSON object", 400)
    prepared = dict(params or {})
    run.client.warn_key_case(run.method, prepared, run.request_id)
    run.warn_order(prepared)
    prepared.pop("start", None)
    if v3:
        prepared.pop("pagination", None)
        prepared.pop("cursor", None)
    return prepared


# --- v2 ------------------------------------------------------------------------------------------------
SEND_TURNS = 20  # event-loop turns granted to a prefetch to put its request on the wire (about 5 suffice)


async def _pages_v2(
    run: _Run,
    params: Mapping[str, Any] | None,
    *,
    id_key: str | None,
    cursor_id_key: str | None,
    result_key: str | None,
    chained: bool,
) -> AsyncGenerator[list[Any], None]:
    """Pages of a v2 list, every one asked with `start=-1` (the portal never counts the rows). The first
    request is one plain page; only after a full page do chained batches follow, each starting from the
    previous one's last id.

    Chained batches are sequential, but that id is all the next batch needs: as soon as a batch is in and
    shows the list goes on, the next one is sent, and the pages in hand are checked, counted and handed out
    while the portal works on it. A prefetch is only sent when the batch in hand would be followed by another
    anyway, so the requests are the same as without it; it is cancelled (and its answer dropped) when the
    list stops for any other reason — cancel, an error, a consumer that closes the iterator."""
    from .list_windows import WINDOW_AFTER_ROWS, can_window, windowed_pages  # (it builds on this module)

    method = run.method
    base = default_keys(method, 2)
    keys = ListKeys(
        id_key or base.id_key,
        cursor_id_key or (id_key if id_key and method.lower() not in _V2_KEYS else base.cursor_id_key),
        result_key if result_key is not None else base.result_key,
    )
    windows = can_window(params, keys, chained)
    user = _prepare(run, params, v3=False)
    _select_cursor(user, keys.cursor_id_key)
    cursor: Any = _initial_cursor(user, keys)
    if isinstance(user.get("filter"), Mapping):
        user["filter"] = {
            k: v for k, v in user["filter"].items() if str(k).lower() != f">{keys.cursor_id_key}".lower()
        }
    guard = _CursorGuard(method, keys.cursor_id_key, cursor)
    if run.is_cancelled():
        return
    batch = await _fetch_page(run, user, keys, cursor)  # the first page, plain
    if batch is None:
        return
    if batch.pages:
        keys = _detect_keys(batch.pages[0][1], keys, result_key is not None, id_key is not None)
    if batch.total is not None:
        run.state.total = batch.total  # given for free (a `start=-1` page normally has none)
    fetch = _fetcher(run, user, keys, chained)
    pipe = _Pipeline(run, fetch, keys, WINDOW_AFTER_ROWS if windows else None)
    received = 0  # rows received (before de-duplication): all pages before the last were full
    first_id: int | None = None
    pending: _Ahead | None = None  # the next batch, sent before this one's pages go out
    lookup: asyncio.Future[None] | None = batch.lookup
    try:
        while True:
            plan = _plan(method, batch.pages, batch.error, keys, guard, received, run.max_pages)
            if first_id is None and plan.pages and plan.pages[0]:
                first_id = _cursor(plan.pages[0][0], keys.id_key)
            long_list = windows and plan.received >= WINDOW_AFTER_ROWS and first_id is not None
            if plan.goes_on and not run.is_cancelled() and not long_list:
                pending = await pipe.next_after(plan.cursor, plan.received)
            else:
                await pipe.drop()  # (none was sent: the answer's check sees what the plan sees)
            if lookup is not None:
                await lookup  # the v3 migration warning (if any) comes before the pages it is about
                lookup = None
            for rows in plan.pages:
                page = run.dedupe(rows, keys.id_key)
                await run.report(items=len(page), pages=1)
                if page:
                    yield page
            cursor, received = plan.cursor, plan.received
            if plan.failure is not None:
                run.fail(plan.failure)
                return
            if plan.unreadable:
                run.stop_reason = f'no numeric id could be read from the last row via idKey "{keys.id_key}"'
                run.client.log.warning(
                    "LIST_CURSOR_UNREADABLE",
                    f"{run.log_label}: pagination stops here — {run.stop_reason}",
                    method=method,
                )
                return
            if plan.complete:
                run.complete = True
                return
            if run.is_cancelled():
                return
            if long_list and pending is None:
                rest = await windowed_pages(run, user, keys, cursor, first_id, received)  # type: ignore[arg-type]
                if rest is not None:
                    async with contextlib.aclosing(rest):
                        async for rows in rest:
                            page = run.dedupe(rows, keys.id_key)
                            await run.report(items=len(page), pages=1)
                            if page:
                                yield page
                    return
                if run.is_cancelled():
                    return
                windows, pipe.stop_at = False, None  # the last id is unknown: the walk goes on as it was
                pending = await pipe.next_after(cursor, received)
            if pending is None:
                return
            pending.awaited = True  # its answer may now send the next batch at once
            ahead, pending = pending, None
            batch = await ahead.task  # a cancel fired meanwhile ends it with None (guarded)
            if batch is None:
                return
            lookup = batch.lookup
    finally:
        if pending is not None:
            await _drop(pending.task)
        await pipe.drop()
        await _drop(lookup)


@dataclass
class _Ahead:
    """A batch sent ahead: its task, where the list stands when it starts, and whether the list is waiting for
    it (only then may its answer send the next one: the list never runs more than one batch ahead of the pages
    handed out, so a consumer that stops early leaves at most one request behind)."""

    cursor: Any
    received: int
    awaited: bool = False
    task: asyncio.Task[_Batch | None] = field(init=False)


class _Pipeline:
    """Chained batches sent ahead of the pages being handed out.

    A batch's answer, still lazy, shows whether the list goes on — every page there and full, no error, the
    last ids readable and rising — and its last id: then the next batch is sent at once, before the rows are
    read (`hook`). The list's own reading of the pages (`_plan`) decides the same from the rows and takes that
    batch (`next_after`), or sends it itself when the quick look was unsure."""

    def __init__(self, run: _Run, fetch: _Fetch, keys: ListKeys, stop_at: int | None = None) -> None:
        self.run = run
        self.fetch = fetch
        self.keys = keys
        self.stop_at = stop_at  # rows after which the list goes on in windows: no batch is sent ahead then
        self.queue: deque[_Ahead] = deque()

    def hook(
        self, cursor: Any, received: int, wanted: int, ahead: _Ahead
    ) -> Callable[[Any], Awaitable[None]]:
        """`on_answer` for a batch sent ahead from `cursor` with `received` rows already in."""

        async def on_answer(res: Any) -> None:
            if not ahead.awaited:
                return  # the pages before it are still being handed out: the list sends the next one itself
            if self.run.is_cancelled():
                return
            try:
                found = _goes_on(res.document, self.keys, cursor, received, wanted, self.run.max_pages)
            except Exception:  # an answer of an unusual shape: the pages decide once they are read
                return
            if found is not None and (self.stop_at is None or found[1] < self.stop_at):
                await self.send(*found)

        return on_answer

    async def send(self, cursor: Any, received: int) -> None:
        sent = asyncio.Event()
        wanted = _wanted(received, self.run.max_pages)
        ahead = _Ahead(cursor, received)
        hook = self.hook(cursor, received, wanted, ahead)
        task = ahead.task = asyncio.ensure_future(self.fetch(cursor, wanted, sent.set, hook))
        self.queue.append(ahead)
        await _until_sent(task, sent)

    async def next_after(self, cursor: Any, received: int) -> _Ahead:
        """The batch that goes on from `cursor`: the one already sent, else sent now."""
        if self.queue and (self.queue[0].cursor, self.queue[0].received) != (cursor, received):
            await self.drop()  # not the batch wanted (the quick look and the plan disagree: a defect)
        if not self.queue:
            await self.send(cursor, received)
        return self.queue.popleft()

    async def drop(self) -> None:
        while self.queue:
            await _drop(self.queue.popleft().task)


def _goes_on(
    document: Any, keys: ListKeys, cursor: Any, received: int, wanted: int, max_pages: int
) -> tuple[Any, int] | None:
    """From a chained batch's answer, read without materialising its rows: (the next cursor, rows received)
    when the list goes on after it — the same decision `_plan` makes from the rows — else None."""
    envelope = document.get("result")
    if not isinstance(envelope, dict | LazyObject) or materialize(envelope.get("result_error")):
        return None
    results = envelope.get("result")
    if not isinstance(results, dict | LazyObject):
        return None
    previous = cursor
    for k in range(wanted):
        page = results.get(f"p{k}")
        if keys.result_key is not None:
            page = page.get(keys.result_key) if isinstance(page, dict | LazyObject) else None
        if not isinstance(page, list | LazyArray) or len(page) < V2_PAGE_SIZE:
            return None
        received += len(page)
        current = _cursor(page[len(page) - 1], keys.id_key)
        if current is None or (isinstance(previous, int) and current <= previous):
            return None
        previous = current
    if received // V2_PAGE_SIZE >= max_pages:
        return None
    return previous, received


def _wanted(received: int, max_pages: int) -> int:
    """Pages for the next batch: a full chain, or only the pages left under the page cap. (Every page so far
    was full: `received` counts them.)"""
    return max(1, min(CHAIN_LENGTH, max_pages - received // V2_PAGE_SIZE))


async def _until_sent(task: asyncio.Task[Any], sent: asyncio.Event) -> None:
    """Give a prefetch the few event-loop turns it takes to put its request on the wire, so the portal works
    on it while this task hands out pages. A request held back (a limiter wait) is not waited for."""
    await _turns_until(lambda: sent.is_set() or task.done())


async def _turns_until(done: Callable[[], bool]) -> None:
    """Yield to the event loop until `done()` holds, at most SEND_TURNS times."""
    for _ in range(SEND_TURNS):
        if done():
            return
        await asyncio.sleep(0)


async def _drop(task: asyncio.Future[Any] | None) -> None:
    """Cancel a prefetch or look-up the list no longer needs, and wait until it is gone (a prefetch that had
    already come back takes the look-up that ran alongside it too)."""
    if task is None:
        return
    if not task.done():
        task.cancel()
    outcome: Any = (await asyncio.gather(task, return_exceptions=True))[0]
    if isinstance(outcome, _Batch):
        await _drop(outcome.lookup)


@dataclass
class _Plan:
    """What one batch's pages mean for the list, worked out before any of them is handed out."""

    pages: list[list[Any]]  # rows of each page to hand out, in order
    cursor: Any  # the cursor after them
    received: int  # rows received once they are counted
    complete: bool = False
    unreadable: bool = False  # no numeric id in the last row: the list stops (with a warning)
    failure: AjaxError | None = None

    @property
    def goes_on(self) -> bool:
        return not (self.complete or self.unreadable or self.failure is not None)


def _plan(
    method: str,
    pages: list[tuple[str, Any]],
    error: AjaxError | None,
    keys: ListKeys,
    guard: _CursorGuard,
    received: int,
    max_pages: int,
) -> _Plan:
    """Reads pages in order up to the first short one: the pages after it (commands past the end of the list,
    whose reference the portal resolved against that short page) are never read. The cursor check comes
    before a short page is taken as the end."""
    plan = _Plan([], guard.last, received)
    for _label, raw_result in pages:
        rows = _rows(raw_result, keys)
        if rows is None:
            plan.failure = _no_list(method, keys)
            return plan
        if rows:
            cursor = _cursor(rows[-1], keys.id_key)
            if cursor is None:
                plan.pages.append(rows)
                plan.received += len(rows)
                plan.unreadable = True
                return plan
            stuck = guard.advance(cursor)
            if stuck is not None:
                plan.failure = stuck
                return plan
            plan.cursor = cursor
        plan.received += len(rows)
        plan.pages.append(rows)
        if len(rows) < V2_PAGE_SIZE:
            plan.complete = True
            return plan
    if error is not None:
        plan.failure = error
    elif not pages:
        plan.complete = True
    elif plan.received // V2_PAGE_SIZE >= max_pages:
        plan.failure = _too_many_pages(method, max_pages)
    return plan


@dataclass
class _Batch:
    pages: list[tuple[str, Any]]  # (label, result) of each page that came back, in order
    error: AjaxError | None  # what stopped the batch (the pages before it are in `pages`)
    total: int | None = None  # the list's size, when the portal gave it without being asked to count
    lookup: asyncio.Future[None] | None = (
        None  # the v3 look-up that ran alongside (await it before the pages)
    )


_OnSent = Callable[[], None] | None
_OnAnswer = Callable[[Any], Awaitable[None]] | None
_Fetch = Callable[[Any, int, _OnSent, _OnAnswer], Awaitable[_Batch | None]]


def _fetcher(run: _Run, user: dict[str, Any], keys: ListKeys, chained: bool) -> _Fetch:
    """`fetch(cursor, wanted, on_sent, on_answer)`: the next batch (or single page) of this list."""
    if not chained:

        def single(cursor: Any, wanted: int, on_sent: _OnSent, on_answer: _OnAnswer) -> Any:
            return _fetch_page(run, user, keys, cursor)

        return single
    commands = _ChainCommands(run.method, user, keys)

    def chain(cursor: Any, wanted: int, on_sent: _OnSent, on_answer: _OnAnswer) -> Any:
        return _fetch_chain(run, commands, cursor, wanted, on_sent=on_sent, on_answer=on_answer)

    return chain


async def _fetch_page(run: _Run, user: dict[str, Any], keys: ListKeys, cursor: Any) -> _Batch | None:
    """One plain page (the JS SDK's way, and the first request of every v2 list-all)."""
    client = run.client
    warning = _start_lookup(run)
    try:
        await _lookup_first(client, warning)
        res = await run.guarded(
            client.call(
                run.method,
                _page_params(user, keys, cursor),
                api=2,
                request_id=run.request_id,
                pre_checks=False,
            )
        )
    except AjaxError as err:
        return _Batch([], err, None, warning)
    except BaseException:  # cancelled (or worse): the look-up goes too
        await _drop(warning)
        raise
    if res is None:
        await _drop(warning)
        return None
    if not res.is_success:
        return _Batch([], res.error, None, warning)
    given = materialize(res.document.get("total")) if isinstance(res.document, dict | LazyObject) else None
    total = int(given) if isinstance(given, int) and given > 0 else None
    return _Batch([("page", res.result)], None, total, warning)


def _start_lookup(run: _Run) -> asyncio.Future[None]:
    """The migration warning's look-up of the portal's v3 methods runs alongside the request, not before it:
    the caller awaits it before handing out the pages."""
    return asyncio.ensure_future(run.client.warn_if_in_v3(run.method, run.request_id))


async def _lookup_first(client: B24Client, warning: asyncio.Future[None]) -> None:
    """When the look-up asks the portal, its small request goes out first (a few event-loop turns), so its
    small answer is not queued behind the list's at the portal, nor handled at the same time here."""
    if not client.v3.loaded and not client.lookup_sent:
        await _turns_until(lambda: client.lookup_sent or warning.done())


_PLACEHOLDER = "b24xListCursor"  # letters only: encoded as is, so it can be found in the encoded query


class _ChainCommands:
    """The encoded commands of a list's chained batches. They differ only in their cursor (a number for `p0`,
    a `$result[p{k-1}][49][ID]` reference for the others), so each query string comes from one template
    encoded once per list."""

    def __init__(self, method: str, user: dict[str, Any], keys: ListKeys) -> None:
        self.method = method.strip()
        self.user = user
        self.keys = keys
        self._template: tuple[str, str] | None = None
        self._built = False

    def rows(self, cursor: Any, wanted: int) -> list[tuple[str, str, Any, str]]:
        """`(label, method, params, cmd)` of each command."""
        out = []
        for k in range(wanted):
            ref: Any = cursor if k == 0 else _ref_path(f"p{k - 1}", self.keys)
            params = _page_params(self.user, self.keys, ref)
            out.append((f"p{k}", self.method, params, self._command(params, ref)))
        return out

    def _command(self, params: dict[str, Any], ref: Any) -> str:
        if not self._built:
            self._template = self._make_template()
            self._built = True
        if self._template is None:
            return batch_command(self.method, params)
        head, tail = self._template
        return f"{self.method}?{head}{encode_value(ref)}{tail}"

    def _make_template(self) -> tuple[str, str] | None:
        params = _page_params(self.user, self.keys, _PLACEHOLDER)
        ensure_json_params(params, "p0", self.method)
        parts = php_query(params).split(_PLACEHOLDER)
        return (
            (parts[0], parts[1]) if len(parts) == 2 else None
        )  # the text also in the user's params: no template


async def _fetch_chain(
    run: _Run,
    commands: _ChainCommands,
    cursor: Any,
    wanted: int,
    *,
    on_sent: _OnSent = None,
    on_answer: _OnAnswer = None,
) -> _Batch | None:
    """`wanted` pages in one batch, each command's cursor taken from the previous command's last row."""
    client = run.client
    warning = _start_lookup(run)
    try:
        rows = commands.rows(cursor, wanted)
        await _lookup_first(client, warning)
        batch = await run.guarded(
            client.batch_encoded(
                rows,
                halt=True,
                request_id=run.request_id,
                on_sent=on_sent,
                on_answer=on_answer,
            )
        )
    except AjaxError as err:
        return _Batch([], err, None, warning)
    except BaseException:  # cancelled (or worse): the look-up goes too
        await _drop(warning)
        raise
    if batch is None:  # the list was cancelled while the batch was in flight
        await _drop(warning)
        return None
    pages: list[tuple[str, Any]] = []
    error: AjaxError | None = None
    for row in batch.rows:
        if row.error is not None:
            error = row.error
            break
        if not row.executed:
            error = batch.errors.get("base-error")
            break
        pages.append((str(row.key), row.result))
    return _Batch(pages, error, None, warning)


def _no_list(method: str, keys: ListKeys) -> AjaxError:
    where = f" under result[{keys.result_key}]" if keys.result_key else ""
    return AjaxError(
        "LIST_UNEXPECTED_ANSWER",
        f"{method} answered without a list{where}; pass result_key= to say where the rows are",
        200,
        method=method,
    )


def _too_many_pages(method: str, max_pages: int) -> AjaxError:
    return AjaxError(
        "LIST_MAX_PAGES_EXCEEDED",
        f"{method}: stopped after {max_pages:,} pages (the page cap); narrow the filter or raise max_pages",
        200,
        method=method,
    )


class _CursorGuard:
    """A keyset walk asks for rows strictly past its cursor, so the cursor moves the same way on every page.
    One that stays, goes back or comes back to an earlier value would repeat rows for ever: the walk stops."""

    def __init__(self, method: str, field_name: str, start: Any, *, descending: bool = False) -> None:
        self.method = method
        self.field_name = field_name
        self.last = start
        self.descending = descending
        self._seen: set[Any] = set()

    def advance(self, value: Any) -> AjaxError | None:
        previous = self.last
        if value == previous:
            return self._error("LIST_CURSOR_STALLED", f"stayed at {value!r}")
        key = value if isinstance(value, int | float | str) else repr(value)
        if key in self._seen:
            return self._error("LIST_CURSOR_CYCLE", f"came back to {value!r} (it went from {previous!r})")
        try:
            backwards = value > previous if self.descending else value < previous
        except TypeError:  # not comparable (a first value of another type): only repeats are caught
            backwards = False
        if backwards:
            return self._error("LIST_CURSOR_BACKWARDS", f"went back from {previous!r} to {value!r}")
        self._seen.add(key)
        self.last = value
        return None

    def _error(self, code: str, what: str) -> AjaxError:
        order = "DESC" if self.descending else "ASC"
        return AjaxError(
            code,
            f"{self.method}: the cursor `{self.field_name}` {what}; the method does not page by "
            f"`{self.field_name}` in order {order} (it ignores the filter or the order), so the walk stops "
            "instead of repeating rows",
            200,
            method=self.method,
        )


# --- v3 ------------------------------------------------------------------------------------------------
async def _pages_v3(
    run: _Run,
    params: Mapping[str, Any] | None,
    *,
    id_key: str | None,
    cursor_id_key: str | None,
    result_key: str | None,
    limit: int,
    tail: dict[str, Any] | None = None,
) -> AsyncGenerator[list[Any], None]:
    client, method = run.client, run.method
    keys = ListKeys(id_key or "id", cursor_id_key or id_key or "id", result_key or "items")
    user = _prepare(run, params, v3=True)
    user_filter = user.get("filter")
    if user_filter is not None and not isinstance(user_filter, list):
        raise SdkError(
            "JSSDK_INVALID_PARAMS",
            'A REST v3 filter is a list of conditions, e.g. [["stageId", "=", "NEW"]]',
            400,
        )
    cursor: Any = tail["initial"] if tail else 0
    guard = _CursorGuard(
        method,
        tail["field"] if tail else keys.cursor_id_key,
        cursor,
        descending=bool(tail and tail["order"] == "DESC"),
    )
    largest = 0
    while True:
        if run.is_cancelled():
            return
        if run.state.pages >= run.max_pages:
            run.fail(_too_many_pages(method, run.max_pages))
            return
        if tail:
            page_params = {
                **user,
                "cursor": {"field": tail["field"], "value": cursor, "order": tail["order"], "limit": limit},
            }
        else:
            page_params = {
                **user,
                "filter": [*(user_filter or []), [keys.cursor_id_key, ">", cursor]],
                "order": {keys.cursor_id_key: "ASC"},
                "pagination": {"limit": limit},  # offset 0: the cursor is in the filter,
            }
        try:
            res = await run.guarded(
                client.call(method, page_params, api=3, request_id=run.request_id, pre_checks=False)
            )
        except AjaxError as err:
            run.fail(err)
            return
        if res is None:
            return
        if not res.is_success:
            run.fail(res.error)  # type: ignore[arg-type]
            return
        rows = _rows(res.result, keys)
        if not rows:
            await run.report()
            run.complete = rows is not None
            if rows is None:
                run.fail(
                    AjaxError(
                        "LIST_UNEXPECTED_ANSWER",
                        f"{method} answered without a list under result[{keys.result_key}]",
                        res.status,
                        method=method,
                        request_id=res.request_id,
                    )
                )
            return
        last = rows[-1]
        following = (
            (last.get(tail["field"]) if isinstance(last, Mapping) else None)
            if tail
            else _cursor(last, keys.id_key)
        )
        stuck = guard.advance(following) if following is not None else None
        if stuck is not None:  # checked before a short page is taken as the end
            run.fail(stuck)
            return
        page = run.dedupe(rows, keys.id_key)
        await run.report(items=len(page), pages=1)
        if page:
            yield page
        largest = max(largest, len(rows))
        if len(rows) < largest:
            run.complete = True
            return
        cursor = following
        if cursor is None:
            run.stop_reason = "no cursor value could be read from the last row"
            client.log.warning(
                "LIST_CURSOR_UNREADABLE",
                f"{run.log_label}: pagination stops here — {run.stop_reason}",
                method=method,
            )
            return


# --- public helpers ------------------------------------------------------------------------------------
def _pages(
    run: _Run, params: Mapping[str, Any] | None, api: int, opts: dict[str, Any]
) -> AsyncGenerator[list[Any], None]:
    if api == 3:
        return _pages_v3(
            run,
            params,
            id_key=opts.get("id_key"),
            cursor_id_key=opts.get("cursor_id_key"),
            result_key=opts.get("result_key"),
            limit=opts.get("limit") or 50,
        )
    return _pages_v2(
        run,
        params,
        id_key=opts.get("id_key"),
        cursor_id_key=opts.get("cursor_id_key"),
        result_key=opts.get("result_key"),
        chained=opts.get("chained", True),
    )


def _list_opts(
    id_key: str | None, cursor_id_key: str | None, result_key: str | None, limit: int | None, chained: bool
) -> dict[str, Any]:
    return {
        "id_key": id_key,
        "cursor_id_key": cursor_id_key,
        "result_key": result_key,
        "limit": limit,
        "chained": chained,
    }


async def _collect(run: _Run, pages: AsyncGenerator[list[Any], None]) -> ListResult:
    """The call* flavour: every item in one ListResult, API errors kept in it."""
    items: list[Any] = []
    async with contextlib.aclosing(pages):
        async for page in pages:
            items.extend(page)
    await run.report(done=True)
    return run.result(items)


async def _stream(
    run: _Run, pages: AsyncGenerator[list[Any], None], error_code: str
) -> AsyncGenerator[list[Any], None]:
    """The fetch* flavour: pages as they arrive, then the first API error raised as SdkError `error_code`.
    Closing it closes `pages` at once (a consumer that stops early leaves no prefetch running)."""
    async with contextlib.aclosing(pages):
        async for page in pages:
            yield page
    await run.report(done=True)
    if run.errors:
        err = run.errors[0]
        raise SdkError(
            error_code,
            f"API Error: {err.code}: {err.message}",
            err.status or 500,
            original_error=err,
        )


async def call_list(
    client: B24Client,
    method: str,
    params: Mapping[str, Any] | None = None,
    *,
    api: int = 2,
    id_key: str | None = None,
    cursor_id_key: str | None = None,
    result_key: str | None = None,
    limit: int | None = None,
    chained: bool = True,
    request_id: str | None = None,
    progress: Progress | None = None,
    cancel: Any = None,
    max_pages: int = MAX_PAGES,
) -> ListResult:
    """Every item of a list method. Never raises for API errors: they end up in `ListResult.errors`, with the
    items fetched before them. `cancel` (asyncio.Event or a callable) stops it, keeping what arrived."""
    run = _Run(client, method, progress, cancel, request_id, "callList.make", max_pages)
    opts = _list_opts(id_key, cursor_id_key, result_key, limit, chained)
    return await _collect(run, _pages(run, params, api, opts))


async def fetch_list(
    client: B24Client,
    method: str,
    params: Mapping[str, Any] | None = None,
    *,
    api: int = 2,
    id_key: str | None = None,
    cursor_id_key: str | None = None,
    result_key: str | None = None,
    limit: int | None = None,
    chained: bool = True,
    request_id: str | None = None,
    progress: Progress | None = None,
    cancel: Any = None,
    max_pages: int = MAX_PAGES,
) -> AsyncGenerator[list[Any], None]:
    """Pages as they arrive. An API error raises SdkError `JSSDK_CORE_B24_FETCH_LIST_METHOD_API_V{2,3}` after
    the pages before it were yielded (its `original_error` is the portal's AjaxError)."""
    run = _Run(client, method, progress, cancel, request_id, "fetchList.make", max_pages)
    opts = _list_opts(id_key, cursor_id_key, result_key, limit, chained)
    pages = _pages(run, params, api, opts)
    async with contextlib.aclosing(
        _stream(run, pages, f"JSSDK_CORE_B24_FETCH_LIST_METHOD_API_V{api}")
    ) as stream:
        async for page in stream:
            yield page


def _tail_opts(cursor_field: str, order: str, initial_value: Any, fetch: bool) -> dict[str, Any]:
    order = (order or "ASC").upper()
    if order not in ("ASC", "DESC"):
        raise SdkError("JSSDK_INVALID_PARAMS", "Tail order is ASC or DESC", 400)
    if order == "DESC" and initial_value is None:
        what = "FETCH" if fetch else "CALL"
        raise SdkError(
            f"JSSDK_CORE_B24_{what}_TAIL_DESC_REQUIRES_INITIAL_VALUE",
            "A DESC tail needs initial_value (the cursor to start below)",
            500,
        )
    return {"field": cursor_field, "order": order, "initial": 0 if initial_value is None else initial_value}


async def call_tail(
    client: B24Client,
    method: str,
    params: Mapping[str, Any] | None = None,
    *,
    cursor_field: str = "id",
    order: str = "ASC",
    result_key: str = "items",
    limit: int = 50,
    initial_value: Any = None,
    request_id: str | None = None,
    progress: Progress | None = None,
    cancel: Any = None,
    max_pages: int = MAX_PAGES,
) -> ListResult:
    """Every item of a v3 `*.tail` method through its native `cursor` object."""
    tail = _tail_opts(cursor_field, order, initial_value, fetch=False)
    run = _Run(client, method, progress, cancel, request_id, "callTail.make", max_pages)
    return await _collect(run, _tail_pages(run, params, cursor_field, result_key, limit, tail))


async def fetch_tail(
    client: B24Client,
    method: str,
    params: Mapping[str, Any] | None = None,
    *,
    cursor_field: str = "id",
    order: str = "ASC",
    result_key: str = "items",
    limit: int = 50,
    initial_value: Any = None,
    request_id: str | None = None,
    progress: Progress | None = None,
    cancel: Any = None,
    max_pages: int = MAX_PAGES,
) -> AsyncGenerator[list[Any], None]:
    tail = _tail_opts(cursor_field, order, initial_value, fetch=True)
    run = _Run(client, method, progress, cancel, request_id, "fetchTail.make", max_pages)
    pages = _tail_pages(run, params, cursor_field, result_key, limit, tail)
    async with contextlib.aclosing(_stream(run, pages, "JSSDK_CORE_B24_FETCH_TAIL_METHOD_API_V3")) as stream:
        async for page in stream:
            yield page


def _tail_pages(
    run: _Run,
    params: Mapping[str, Any] | None,
    cursor_field: str,
    result_key: str,
    limit: int,
    tail: dict[str, Any],
) -> AsyncGenerator[list[Any], None]:
    return _pages_v3(
        run,
        _with_cursor_select(dict(params or {}), cursor_field),
        id_key=cursor_field,
        cursor_id_key=cursor_field,
        result_key=result_key,
        limit=limit,
        tail=tail,
    )


def _with_cursor_select(params: dict[str, Any], cursor_field: str) -> dict[str, Any]:
    select = params.get("select")
    if isinstance(select, list) and cursor_field not in select:
        params["select"] = [*select, cursor_field]
    return params


__all__ = [
    "MAX_PAGES",
    "ListKeys",
    "ListProgress",
    "call_list",
    "call_tail",
    "default_keys",
    "fetch_list",
    "fetch_tail",
]
