"""List-all helpers: every item of a list method, in as few HTTP requests as the protocol allows.

v2 uses Bitrix's "huge data" fast path (`start=-1`, order by id, `>ID` cursor) and — beyond the JS SDK — chains
the cursor inside a batch: command `p{k}` filters on `$result[p{k-1}][…][49][ID]`, so one request carries 50
pages. N items cost at most ceil(N/2500)+1 requests. v3 uses the filter-triple keyset (or the native `cursor`
of `*.tail` methods).

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
    state: ListProgress = field(init=False)
    errors: list[AjaxError] = field(default_factory=list)
    cancelled: bool = False
    complete: bool = False
    seen: set[str] = field(default_factory=set)
    _t0: float = field(default_factory=time.perf_counter)
    _waited0: float = 0.0
    _sent0: int = 0

    def __post_init__(self) -> None:
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

    def result(self, items: list[Any]) -> ListResult:
        return ListResult(
            items=items,
            requests=self._requests(),
            errors=list(self.errors),
            cancelled=self.cancelled,
            complete=self.complete,
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
    """Pages of a v2 list. Chained: batches whose first command of the first batch also asks for `total`
    (one count per list-all), so the last batch carries only the pages that exist and no request is spent
    discovering the end.

    Chained batches are sequential (each starts from the previous one's last id), but that id is all the next
    batch needs: as soon as a batch is in and shows the list goes on, the next one is sent, and the pages in
    hand are checked, counted and handed out while the portal works on it. A prefetch is only sent when the
    batch in hand would be followed by another anyway, so the requests are the same as without it; it is
    cancelled (and its answer dropped) when the list stops for any other reason — cancel, an error, a consumer
    that closes the iterator."""
    method = run.method
    base = default_keys(method, 2)
    keys = ListKeys(
        id_key or base.id_key,
        cursor_id_key or (id_key if id_key and method.lower() not in _V2_KEYS else base.cursor_id_key),
        result_key if result_key is not None else base.result_key,
    )
    user = _prepare(run, params, v3=False)
    _select_cursor(user, keys.cursor_id_key)
    cursor: Any = _initial_cursor(user, keys)
    if isinstance(user.get("filter"), Mapping):
        user["filter"] = {
            k: v for k, v in user["filter"].items() if str(k).lower() != f">{keys.cursor_id_key}".lower()
        }
    fetch = _fetcher(run, user, keys, chained)
    pipe = _Pipeline(run, fetch, keys, (result_key is not None, id_key is not None))
    total: int | None = None
    received = 0  # rows received (before de-duplication), compared with `total`
    first = True
    pending: _Ahead | None = None  # the next batch, sent before this one's pages go out
    lookup: asyncio.Future[None] | None = None
    try:
        while True:
            if run.is_cancelled():
                return
            if pending is None:
                wanted = _wanted(total, received)
                hook = pipe.hook(cursor, received, total, wanted, first) if chained else None
                batch = await fetch(cursor, wanted, first, None, hook)
            else:
                pending.awaited = True  # its answer may now send the next batch at once
                batch = await pending.task  # a cancel fired meanwhile ends it with None (guarded)
                pending = None
            if batch is None:
                return
            pages, error, lookup = batch.pages, batch.error, batch.lookup
            if first:
                first = False
                if pages:
                    detected = _detect_keys(pages[0][1], keys, result_key is not None, id_key is not None)
                    if detected != keys:
                        # The chain was built on the wrong shape: keep the first page only and rebuild.
                        keys, pages, error = detected, pages[:1], None
                        fetch = _fetcher(run, user, keys, chained)
                        await pipe.drop()  # (none was sent: the answer's check saw the shape too)
                        pipe.rebuilt(fetch, keys)
                if batch.total and batch.total > 0:
                    total = batch.total
                    run.state.total = total
            plan = _plan(method, pages, error, keys, cursor, total, received)
            if chained and plan.goes_on and not run.is_cancelled():
                pending = await pipe.next_after(plan.cursor, plan.received, total)
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
                run.client.log.warning(
                    "LIST_CURSOR_UNREADABLE",
                    f"{run.log_label}: pagination stops here — no numeric id could be read from the last row "
                    f'via idKey "{keys.id_key}"',
                    method=method,
                )
                return
            if plan.complete:
                run.complete = True
                return
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
    total not reached, the last ids readable and rising — and its last id: then the next batch is sent at
    once, before the rows are read (`hook`). The list's own reading of the pages (`_plan`) decides the same
    from the rows and takes that batch (`next_after`), or sends it itself when the quick look was unsure."""

    def __init__(self, run: _Run, fetch: _Fetch, keys: ListKeys, explicit: tuple[bool, bool]) -> None:
        self.run = run
        self.fetch = fetch
        self.keys = keys
        self.explicit = explicit  # whether the caller named the result key / the id key
        self.queue: deque[_Ahead] = deque()

    def rebuilt(self, fetch: _Fetch, keys: ListKeys) -> None:
        self.fetch, self.keys = fetch, keys

    def hook(
        self,
        cursor: Any,
        received: int,
        total: int | None,
        wanted: int,
        first: bool,
        ahead: _Ahead | None = None,
    ) -> Callable[[Any], Awaitable[None]]:
        """`on_answer` for a batch sent from `cursor` with `received` rows already in (`ahead`: its entry when
        it was sent ahead; the batch the list fetches itself is waited for from the start)."""

        async def on_answer(res: Any) -> None:
            if ahead is not None and not ahead.awaited:
                return  # the pages before it are still being handed out: the list sends the next one itself
            if self.run.is_cancelled() or (total is not None and received + wanted * V2_PAGE_SIZE >= total):
                return  # (the batch reaches the end of the list: nothing comes after it)
            try:
                found = _goes_on(
                    res.document, self.keys, cursor, received, total, wanted, first, self.explicit
                )
            except Exception:  # an answer of an unusual shape: the pages decide once they are read
                return
            if found is not None:
                await self.send(*found)

        return on_answer

    async def send(self, cursor: Any, received: int, total: int | None) -> None:
        sent = asyncio.Event()
        wanted = _wanted(total, received)
        ahead = _Ahead(cursor, received)
        hook = self.hook(cursor, received, total, wanted, False, ahead)
        task = ahead.task = asyncio.ensure_future(self.fetch(cursor, wanted, False, sent.set, hook))
        self.queue.append(ahead)
        await _until_sent(task, sent)

    async def next_after(self, cursor: Any, received: int, total: int | None) -> _Ahead:
        """The batch that goes on from `cursor`: the one already sent, else sent now."""
        if self.queue and (self.queue[0].cursor, self.queue[0].received) != (cursor, received):
            await self.drop()  # not the batch wanted (the quick look and the plan disagree: a defect)
        if not self.queue:
            await self.send(cursor, received, total)
        return self.queue.popleft()

    async def drop(self) -> None:
        while self.queue:
            await _drop(self.queue.popleft().task)


def _goes_on(
    document: Any,
    keys: ListKeys,
    cursor: Any,
    received: int,
    total: int | None,
    wanted: int,
    first: bool,
    explicit: tuple[bool, bool],
) -> tuple[Any, int, int | None] | None:
    """From a chained batch's answer, read without materialising its rows: (the next cursor, rows received,
    the total) when the list goes on after it — the same decision `_plan` makes from the rows — else None."""
    envelope = document.get("result")
    if not isinstance(envelope, dict | LazyObject) or materialize(envelope.get("result_error")):
        return None
    results = envelope.get("result")
    if not isinstance(results, dict | LazyObject):
        return None
    if first:
        totals = materialize(envelope.get("result_total"))
        counted = int(totals.get("p0") or 0) if isinstance(totals, dict) else 0
        total = counted if counted > 0 else None
        if _detect_keys(materialize(results.get("p0")), keys, *explicit) != keys:
            return None
    previous = cursor
    for k in range(wanted):
        page = results.get(f"p{k}")
        if keys.result_key is not None:
            page = page.get(keys.result_key) if isinstance(page, dict | LazyObject) else None
        if not isinstance(page, list | LazyArray) or len(page) < V2_PAGE_SIZE:
            return None
        received += len(page)
        if total is not None and received >= total:
            return None
        current = _cursor(page[len(page) - 1], keys.id_key)
        if current is None or (isinstance(previous, int) and current <= previous):
            return None
        previous = current
    return previous, received, total


def _wanted(total: int | None, received: int) -> int:
    """Pages for the next batch: a full chain, or only the pages that remain when the total is known."""
    if total is None:
        return CHAIN_LENGTH
    return max(1, min(CHAIN_LENGTH, -(-(total - received) // V2_PAGE_SIZE)))


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
    cursor: Any,
    total: int | None,
    received: int,
) -> _Plan:
    plan = _Plan([], cursor, received)
    for _label, raw_result in pages:
        rows = _rows(raw_result, keys)
        if rows is None:
            plan.failure = _no_list(method, keys)
            return plan
        plan.received += len(rows)
        plan.pages.append(rows)
        if len(rows) < V2_PAGE_SIZE or (total is not None and plan.received >= total):
            plan.complete = True
            return plan
        previous, plan.cursor = plan.cursor, _cursor(rows[-1], keys.id_key)
        if plan.cursor is None:
            plan.unreadable = True
            return plan
        if isinstance(previous, int) and plan.cursor <= previous:
            # The method ignored the `>ID` filter or the ID order: going on would loop over the same rows.
            plan.failure = AjaxError(
                "LIST_CURSOR_NOT_ADVANCING",
                f"{method} does not page by `>{keys.cursor_id_key}` with order "
                f"{{{keys.cursor_id_key}: ASC}} (the last id went from {previous} to {plan.cursor}); "
                "list it with plain `start` paging instead",
                200,
                method=method,
            )
            return plan
    if error is not None:
        plan.failure = error
    elif not pages:
        plan.complete = True
    return plan


@dataclass
class _Batch:
    pages: list[tuple[str, Any]]  # (label, result) of each page that came back, in order
    error: AjaxError | None  # what stopped the batch (the pages before it are in `pages`)
    total: int | None  # the list's size, when the first command asked for it
    lookup: asyncio.Future[None] | None = (
        None  # the v3 look-up that ran alongside (await it before the pages)
    )


_OnSent = Callable[[], None] | None
_OnAnswer = Callable[[Any], Awaitable[None]] | None
_Fetch = Callable[[Any, int, bool, _OnSent, _OnAnswer], Awaitable[_Batch | None]]


def _fetcher(run: _Run, user: dict[str, Any], keys: ListKeys, chained: bool) -> _Fetch:
    """`fetch(cursor, wanted, count, on_sent, on_answer)`: the next batch (or single page) of this list."""
    if not chained:

        def single(cursor: Any, wanted: int, count: bool, on_sent: _OnSent, on_answer: _OnAnswer) -> Any:
            return _fetch_single(run, user, keys, cursor)

        return single
    commands = _ChainCommands(run.method, user, keys)

    def chain(cursor: Any, wanted: int, count: bool, on_sent: _OnSent, on_answer: _OnAnswer) -> Any:
        return _fetch_chain(run, commands, cursor, wanted, count=count, on_sent=on_sent, on_answer=on_answer)

    return chain


async def _fetch_single(run: _Run, user: dict[str, Any], keys: ListKeys, cursor: Any) -> _Batch | None:
    """One page per request (the JS SDK's way)."""
    try:
        res = await run.guarded(
            run.client.call(run.method, _page_params(user, keys, cursor), api=2, request_id=run.request_id)
        )
    except AjaxError as err:
        return _Batch([], err, None)
    if res is None:
        return None
    if not res.is_success:
        return _Batch([], res.error, None)
    return _Batch([("page", res.result)], None, None)


_PLACEHOLDER = "b24xListCursor"  # letters only: encoded as is, so it can be found in the encoded query


class _ChainCommands:
    """The encoded commands of a list's chained batches. They differ only in their cursor (a number for `p0`,
    a `$result[p{k-1}][49][ID]` reference for the others), so each query string comes from one template
    encoded once per list."""

    def __init__(self, method: str, user: dict[str, Any], keys: ListKeys) -> None:
        self.method = method.strip()
        self.user = user
        self.keys = keys
        self._templates: dict[bool, tuple[str, str] | None] = {}
        self._checked = False

    def rows(self, cursor: Any, wanted: int, count: bool) -> list[tuple[str, str, Any, str]]:
        """`(label, method, params, cmd)` of each command; the first asks for `total` when `count`."""
        out = []
        for k in range(wanted):
            ref: Any = cursor if k == 0 else _ref_path(f"p{k - 1}", self.keys)
            counted = k == 0 and count
            params = self._params(ref, counted)
            out.append((f"p{k}", self.method, params, self._command(params, ref, counted)))
        return out

    def _params(self, ref: Any, counted: bool) -> dict[str, Any]:
        params = _page_params(self.user, self.keys, ref)
        if counted:
            params["start"] = 0  # the first page also reports `total` (one count per list-all)
        return params

    def _command(self, params: dict[str, Any], ref: Any, counted: bool) -> str:
        if counted not in self._templates:
            self._templates[counted] = self._template(counted)
        template = self._templates[counted]
        if template is None:
            return batch_command(self.method, params)
        head, tail = template
        return f"{self.method}?{head}{encode_value(ref)}{tail}"

    def _template(self, counted: bool) -> tuple[str, str] | None:
        params = self._params(_PLACEHOLDER, counted)
        if not self._checked:
            ensure_json_params(params, "p0", self.method)
            self._checked = True
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
    count: bool,
    on_sent: _OnSent = None,
    on_answer: _OnAnswer = None,
) -> _Batch | None:
    """`wanted` pages in one batch, each command's cursor taken from the previous command's last row."""
    # The migration warning's one-time look-up of the portal's v3 methods runs alongside the batch, not
    # before it: the first batch does not wait for it. The caller awaits it before handing out the pages.
    client = run.client
    warning = asyncio.ensure_future(client.warn_if_in_v3(run.method, run.request_id))
    try:
        rows = commands.rows(cursor, wanted, count)
        if not client.v3.loaded and not client.lookup_sent:
            # Its small request goes out first (a few event-loop turns), so its small answer is not queued
            # behind the batch's at the portal, nor handled at the same time as the batch's here.
            await _turns_until(lambda: client.lookup_sent or warning.done())
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
    total = batch.rows[0].total if batch.rows and batch.rows[0].executed else None
    return _Batch(pages, error, total, warning)


def _no_list(method: str, keys: ListKeys) -> AjaxError:
    where = f" under result[{keys.result_key}]" if keys.result_key else ""
    return AjaxError(
        "LIST_UNEXPECTED_ANSWER",
        f"{method} answered without a list{where}; pass result_key= to say where the rows are",
        200,
        method=method,
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
    largest = 0
    while True:
        if run.is_cancelled():
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
            res = await run.guarded(client.call(method, page_params, api=3, request_id=run.request_id))
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
        page = run.dedupe(rows, keys.id_key)
        await run.report(items=len(page), pages=1)
        if page:
            yield page
        largest = max(largest, len(rows))
        if len(rows) < largest:
            run.complete = True
            return
        last = rows[-1]
        cursor = (
            (last.get(tail["field"]) if isinstance(last, Mapping) else None)
            if tail
            else _cursor(last, keys.id_key)
        )
        if cursor is None:
            client.log.warning(
                "LIST_CURSOR_UNREADABLE",
                f"{run.log_label}: pagination stops here — no cursor value could be read from the last row",
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
) -> ListResult:
    """Every item of a list method. Never raises for API errors: they end up in `ListResult.errors`, with the
    items fetched before them. `cancel` (asyncio.Event or a callable) stops it, keeping what arrived."""
    run = _Run(client, method, progress, cancel, request_id, "callList.make")
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
) -> AsyncGenerator[list[Any], None]:
    """Pages as they arrive. An API error raises SdkError `JSSDK_CORE_B24_FETCH_LIST_METHOD_API_V{2,3}` after
    the pages before it were yielded (its `original_error` is the portal's AjaxError)."""
    run = _Run(client, method, progress, cancel, request_id, "fetchList.make")
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
) -> ListResult:
    """Every item of a v3 `*.tail` method through its native `cursor` object."""
    tail = _tail_opts(cursor_field, order, initial_value, fetch=False)
    run = _Run(client, method, progress, cancel, request_id, "callTail.make")
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
) -> AsyncGenerator[list[Any], None]:
    tail = _tail_opts(cursor_field, order, initial_value, fetch=True)
    run = _Run(client, method, progress, cancel, request_id, "fetchTail.make")
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
    "ListKeys",
    "ListProgress",
    "call_list",
    "call_tail",
    "default_keys",
    "fetch_list",
    "fetch_tail",
]
