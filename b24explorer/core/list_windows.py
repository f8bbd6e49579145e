"""List-all of a long v2 list in id windows walked at once.

A portal serves a chained batch in about one round trip plus the query time of its 50 pages, so a long list
walked batch after batch takes (pages / 50) of those one after another. Once the sequential walk has shown the
list is long (`WINDOW_AFTER_ROWS` rows and still going), one more request asks for the list's last id —
`order: {ID: DESC}`, `start=-1`, only the id selected: a keyset query on the primary key, no COUNT — and the
ids still ahead are split into at most `MAX_WINDOWS` windows `(lo, hi]`, each walked as its own chain of
batches with `>ID` and `<=ID` bounds (`start=-1` on every page), all at once. The last window has no upper
bound, so rows added meanwhile are found as the sequential walk would find them.

Windows never overlap, so every id comes once (the list also de-duplicates). Pages are handed out window by
window, so the items stay in ascending id order. Each window is guarded like a walk of its own (the cursor
must advance, checked before a short page ends it); the page cap counts the pages of every window. Every
request goes through the client's limiter like any other. A window holds at most `AHEAD_PAGES` pages not yet
handed out before it waits for the consumer, and has at most one request in flight: a consumer that pauses
leaves at most one request per window running. Cancel, an error or a closed iterator drops every request in
flight.
"""

from __future__ import annotations

import asyncio
import math
from collections.abc import AsyncGenerator, Mapping
from dataclasses import dataclass, field
from typing import Any

from .errors import AjaxError
from .lists import (
    CHAIN_LENGTH,
    V2_PAGE_SIZE,
    ListKeys,
    _ChainCommands,
    _cursor,
    _CursorGuard,
    _drop,
    _fetch_chain,
    _plan,
    _rows,
    _Run,
    _too_many_pages,
)

WINDOW_AFTER_ROWS = V2_PAGE_SIZE * (1 + 4 * CHAIN_LENGTH)  # the first page and four full batches: 10,050 rows
MAX_WINDOWS = 6  # windows walked at once (one request in flight each)
MIN_WINDOW_PAGES = 2 * CHAIN_LENGTH  # a window is worth its own chain from about two batches of pages on
AHEAD_PAGES = 8 * CHAIN_LENGTH  # pages a window may hold before the consumer reaches it


def can_window(params: Mapping[str, Any] | None, keys: ListKeys, chained: bool) -> bool:
    """Windows only where they change nothing but the time: chained batches, no `order` of the user's other
    than by the cursor id ascending, and no condition of the user's on the id (a `>ID` bound, which the walk
    starts from, excepted)."""
    if not chained or params is None:
        return chained
    order = params.get("order")
    if order and not (
        isinstance(order, Mapping)
        and len(order) == 1
        and str(next(iter(order))).lower() == keys.cursor_id_key.lower()
        and str(next(iter(order.values()))).upper() == "ASC"
    ):
        return False
    flt = params.get("filter")
    if flt is None:
        return True
    if not isinstance(flt, Mapping):
        return False
    own = keys.cursor_id_key.lower()
    return all(
        str(key).lower() == f">{own}" or str(key).lstrip("!@<>=%*").lower() != own for key in flt
    )


@dataclass
class _Window:
    lo: int
    hi: int | None  # inclusive; None: open
    pages: list[list[Any]] = field(default_factory=list)  # received, not yet handed out
    failure: AjaxError | None = None
    stop_reason: str | None = None
    complete: bool = False
    finished: bool = False
    changed: asyncio.Event = field(default_factory=asyncio.Event)  # pages arrived, or the walk ended
    taken: asyncio.Event = field(default_factory=asyncio.Event)  # the consumer took pages


class _Windows:
    """The windows of one list and their shared page count."""

    def __init__(self, run: _Run, user: dict[str, Any], keys: ListKeys, density: float, pages: int) -> None:
        self.run = run
        self.user = user
        self.keys = keys
        self.density = density  # rows per id, as the walk so far found them
        self.pages = pages  # pages received by the whole list (the page cap counts them all)

    def split(self, cursor: int, last: int) -> list[_Window]:
        span = last - cursor
        pages = span * self.density / V2_PAGE_SIZE
        count = max(1, min(MAX_WINDOWS, span, math.ceil(pages / MIN_WINDOW_PAGES)))
        bounds = [cursor + span * i // count for i in range(count + 1)]
        return [_Window(bounds[i], bounds[i + 1] if i + 1 < count else None) for i in range(count)]

    def _wanted(self, window: _Window, cursor: int) -> int:
        """Pages for the window's next batch: a full chain, or about what is left below its upper bound (one
        page more, to see the short page that ends it), and never past the page cap."""
        wanted = CHAIN_LENGTH
        if window.hi is not None:
            left = (window.hi - cursor) * self.density * 1.1 / V2_PAGE_SIZE
            wanted = min(wanted, math.ceil(left) + 1)
        return max(1, min(wanted, self.run.max_pages - self.pages))

    async def walk(self, window: _Window) -> None:
        run, keys = self.run, self.keys
        try:
            user = self.user
            if window.hi is not None:
                flt = user.get("filter")
                user = {**user, "filter": {**(flt if isinstance(flt, Mapping) else {}),
                                           f"<={keys.cursor_id_key}": window.hi}}
            commands = _ChainCommands(run.method, user, keys)
            guard = _CursorGuard(run.method, keys.cursor_id_key, window.lo)
            cursor: Any = window.lo
            while not run.is_cancelled():
                while len(window.pages) >= AHEAD_PAGES:
                    window.taken.clear()
                    await window.taken.wait()
                if self.pages >= run.max_pages:
                    window.failure = _too_many_pages(run.method, run.max_pages)
                    return
                batch = await _fetch_chain(run, commands, cursor, self._wanted(window, cursor))
                if batch is None:  # cancelled with the batch in flight
                    return
                if batch.lookup is not None:
                    await batch.lookup
                plan = _plan(run.method, batch.pages, batch.error, keys, guard, self.pages * V2_PAGE_SIZE,
                             run.max_pages)  # (the cap counts the pages of every window)
                self.pages += len(plan.pages)
                window.pages.extend(plan.pages)
                window.changed.set()
                if plan.failure is not None:
                    window.failure = plan.failure
                    return
                if plan.unreadable:
                    window.stop_reason = f'no numeric id could be read from the last row via idKey "{keys.id_key}"'
                    return
                cursor = plan.cursor
                if plan.complete or (window.hi is not None and cursor >= window.hi):
                    window.complete = True
                    return
        finally:
            window.finished = True
            window.changed.set()


async def last_id(run: _Run, user: dict[str, Any], keys: ListKeys, cursor: int) -> int | None:
    """The largest id of the list past `cursor`, without a COUNT: one page ordered by id descending with
    `start=-1`, only the id selected. None when the answer does not tell (the walk then goes on as it was)."""
    flt = user.get("filter")
    params = {
        **user,
        "filter": {**(flt if isinstance(flt, Mapping) else {}), f">{keys.cursor_id_key}": cursor},
        "order": {keys.cursor_id_key: "DESC"},
        "select": [keys.cursor_id_key],
        "start": -1,
    }
    try:
        res = await run.guarded(
            run.client.call(run.method, params, api=2, request_id=run.request_id, pre_checks=False)
        )
    except AjaxError as err:
        run.client.log.debug("LIST_LAST_ID_UNKNOWN", f"{run.log_label}: no windows, the last id is unknown: {err}",
                             method=run.method)
        return None
    if res is None or not res.is_success:
        return None
    rows = _rows(res.result, keys)
    if not rows:
        return None
    first, final = _cursor(rows[0], keys.id_key), _cursor(rows[-1], keys.id_key)
    if first is None or final is None or first < final:  # not descending: the order was not honoured
        return None
    return first


async def windowed_pages(
    run: _Run, user: dict[str, Any], keys: ListKeys, cursor: int, first_id: int, received: int
) -> AsyncGenerator[list[Any], None] | None:
    """The rest of a list past `cursor` in windows, or None when its last id could not be learned (the
    caller goes on walking as before). `first_id` and `received`: the walk so far, for the rows per id."""
    last = await last_id(run, user, keys, cursor)
    if last is None or last <= cursor or run.is_cancelled():
        return None
    density = min(1.0, received / max(1, cursor - first_id + 1))
    windows = _Windows(run, user, keys, density, received // V2_PAGE_SIZE)
    return _hand_out(run, windows, windows.split(cursor, last))


async def _hand_out(run: _Run, windows: _Windows, parts: list[_Window]) -> AsyncGenerator[list[Any], None]:
    """Walk every window at once; hand out their pages window by window (ascending ids)."""
    tasks = [asyncio.ensure_future(windows.walk(window)) for window in parts]
    try:
        for window, task in zip(parts, tasks, strict=True):
            while True:
                if run.is_cancelled():  # the items stay a gapless run of ascending ids
                    return
                if window.pages:
                    taken, window.pages = window.pages, []
                    window.taken.set()
                    for rows in taken:
                        yield rows
                    continue
                if window.finished:
                    break
                window.changed.clear()
                await window.changed.wait()
            if window.failure is not None:
                run.fail(window.failure)
                return
            if window.stop_reason is not None:
                run.stop_reason = window.stop_reason
                run.client.log.warning(
                    "LIST_CURSOR_UNREADABLE",
                    f"{run.log_label}: pagination stops here — {run.stop_reason}",
                    method=run.method,
                )
                return
            if not window.complete:
                failed = task.exception() if task.done() and not task.cancelled() else None
                if failed is not None:  # not an API error: raised, as the sequential walk raises it
                    raise failed
                return  # cancelled
        run.complete = True
    finally:
        for task in tasks:
            await _drop(task)
