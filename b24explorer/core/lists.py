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
import inspect
import time
from collections.abc import AsyncIterator, Callable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from .errors import AjaxError, SdkError
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
        finally:
            waiter.cancel()
        if request.done():
            return request.result()
        request.cancel()
        try:
            await request
        except asyncio.CancelledError:
            pass
        except Exception:  # the answer no longer matters
            pass
        self.cancelled = True
        return None

    def dedupe(self, rows: list[Any], id_key: str) -> list[Any]:
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
async def _pages_v2(
    run: _Run,
    params: Mapping[str, Any] | None,
    *,
    id_key: str | None,
    cursor_id_key: str | None,
    result_key: str | None,
    chained: bool,
) -> AsyncIterator[list[Any]]:
    """Pages of a v2 list. Chained: batches whose first command of the first batch also asks for `total`
    (one count per list-all), so the last batch carries only the pages that exist and no request is spent
    discovering the end."""
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
    fetch = _fetch_chain if chained else _fetch_single
    total: int | None = None
    received = 0  # rows received (before de-duplication), compared with `total`
    first = True
    while True:
        if run.is_cancelled():
            return
        wanted = CHAIN_LENGTH
        if total is not None:
            wanted = max(1, min(CHAIN_LENGTH, -(-(total - received) // V2_PAGE_SIZE)))
        outcome = await fetch(run, user, keys, cursor, wanted, count=first)
        if outcome is None:
            return
        pages, error, page_total = outcome
        if first:
            first = False
            if pages:
                detected = _detect_keys(pages[0][1], keys, result_key is not None, id_key is not None)
                if detected != keys:
                    # The chain was built on the wrong shape: keep the first page only and rebuild.
                    keys, pages, error = detected, pages[:1], None
            if page_total and page_total > 0:
                total = page_total
                run.state.total = total
        for _label, raw_result in pages:
            rows = _rows(raw_result, keys)
            if rows is None:
                run.fail(_no_list(method, keys))
                return
            received += len(rows)
            page = run.dedupe(rows, keys.id_key)
            await run.report(items=len(page), pages=1)
            if page:
                yield page
            if len(rows) < V2_PAGE_SIZE or (total is not None and received >= total):
                run.complete = True
                return
            previous, cursor = cursor, _cursor(rows[-1], keys.id_key)
            if cursor is None:
                run.client.log.warning(
                    "LIST_CURSOR_UNREADABLE",
                    f"{run.log_label}: pagination stops here — no numeric id could be read from the last row "
                    f'via idKey "{keys.id_key}"',
                    method=method,
                )
                return
            if isinstance(previous, int) and cursor <= previous:
                # The method ignored the `>ID` filter or the ID order: going on would loop over the same rows.
                run.fail(
                    AjaxError(
                        "LIST_CURSOR_NOT_ADVANCING",
                        f"{method} does not page by `>{keys.cursor_id_key}` with order "
                        f"{{{keys.cursor_id_key}: ASC}} (the last id went from {previous} to {cursor}); "
                        "list it with plain `start` paging instead",
                        200,
                        method=method,
                    )
                )
                return
        if error is not None:
            run.fail(error)
            return
        if not pages:
            run.complete = True
            return


_Fetched = tuple[list[tuple[str, Any]], AjaxError | None, int | None]


async def _fetch_single(
    run: _Run, user: dict[str, Any], keys: ListKeys, cursor: Any, wanted: int, *, count: bool
) -> _Fetched | None:
    """One page per request (the JS SDK's way)."""
    try:
        res = await run.guarded(
            run.client.call(run.method, _page_params(user, keys, cursor), api=2, request_id=run.request_id)
        )
    except AjaxError as err:
        return [], err, None
    if res is None:
        return None
    if not res.is_success:
        return [], res.error, None
    return [("page", res.result)], None, None


async def _fetch_chain(
    run: _Run, user: dict[str, Any], keys: ListKeys, cursor: Any, wanted: int, *, count: bool
) -> _Fetched | None:
    """`wanted` pages in one batch, each command's cursor taken from the previous command's last row."""
    commands: dict[str, Any] = {}
    for k in range(wanted):
        ref: Any = cursor if k == 0 else _ref_path(f"p{k - 1}", keys)
        page_params = _page_params(user, keys, ref)
        if k == 0 and count:
            page_params["start"] = 0  # the first page also reports `total` (one count per list-all)
        commands[f"p{k}"] = [run.method, page_params]
    # The migration warning's one-time look-up of the portal's v3 methods runs alongside the batch, not
    # before it: the first batch does not wait for it. It ends before this function returns either way.
    warning = asyncio.ensure_future(run.client.warn_if_in_v3(run.method, run.request_id))
    try:
        batch = await run.guarded(run.client.batch(commands, halt=True, api=2, request_id=run.request_id))
    except AjaxError as err:
        await warning
        return [], err, None
    except BaseException:  # cancelled (or worse): the look-up goes too
        warning.cancel()
        await asyncio.gather(warning, return_exceptions=True)
        raise
    if batch is None:  # the list was cancelled while the batch was in flight
        warning.cancel()
        await asyncio.gather(warning, return_exceptions=True)
        return None
    await warning
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
    return pages, error, total


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
) -> AsyncIterator[list[Any]]:
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
) -> AsyncIterator[list[Any]]:
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


async def _collect(run: _Run, pages: AsyncIterator[list[Any]]) -> ListResult:
    """The call* flavour: every item in one ListResult, API errors kept in it."""
    items: list[Any] = []
    async for page in pages:
        items.extend(page)
    await run.report(done=True)
    return run.result(items)


async def _stream(run: _Run, pages: AsyncIterator[list[Any]], error_code: str) -> AsyncIterator[list[Any]]:
    """The fetch* flavour: pages as they arrive, then the first API error raised as SdkError `error_code`."""
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
) -> AsyncIterator[list[Any]]:
    """Pages as they arrive. An API error raises SdkError `JSSDK_CORE_B24_FETCH_LIST_METHOD_API_V{2,3}` after
    the pages before it were yielded (its `original_error` is the portal's AjaxError)."""
    run = _Run(client, method, progress, cancel, request_id, "fetchList.make")
    opts = _list_opts(id_key, cursor_id_key, result_key, limit, chained)
    pages = _pages(run, params, api, opts)
    async for page in _stream(run, pages, f"JSSDK_CORE_B24_FETCH_LIST_METHOD_API_V{api}"):
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
) -> AsyncIterator[list[Any]]:
    tail = _tail_opts(cursor_field, order, initial_value, fetch=True)
    run = _Run(client, method, progress, cancel, request_id, "fetchTail.make")
    pages = _tail_pages(run, params, cursor_field, result_key, limit, tail)
    async for page in _stream(run, pages, "JSSDK_CORE_B24_FETCH_TAIL_METHOD_API_V3"):
        yield page


def _tail_pages(
    run: _Run,
    params: Mapping[str, Any] | None,
    cursor_field: str,
    result_key: str,
    limit: int,
    tail: dict[str, Any],
) -> AsyncIterator[list[Any]]:
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
