"""The diff and the table view's work on a 100,000-deal answer, on the window's event loop.

Two crm.deal.list answers of 100,000 deals from the sandbox (the second after a deal was changed, one deleted
and one added) are compared, then the first is made a table, sorted by two columns and exported to CSV and
NDJSON — each as the window runs it: a `steps.Job` awaited on the qasync loop while a 5 ms Qt timer beats.
Figures, each beside its reference:
- the longest event-loop stall seen by the heartbeat during each piece of work (≤ 150 ms, the tree's budget);
- how long each took in all (informative; the diff's beside `json.loads` of both bodies).

Usage: python bench/bench_diff_table.py [--quick]
"""

from __future__ import annotations

import asyncio
import json
import os
import shutil
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
sys.path.insert(1, str(HERE.parent))

from _table import Row, render  # noqa: E402
from bench_big_answer import FIELDS, STALL_BUDGET, Heartbeat, best_of  # noqa: E402

DEALS = 100_000


def sandbox_bodies(deals: int) -> tuple[bytes, bytes]:
    """The list before and after three writes, over loopback HTTP."""
    import httpx

    from b24explorer.sandbox import Sandbox

    with Sandbox(deals=deals, plan="unlimited", page_size=deals, leads=0, contacts=0, companies=0, tasks=0,
                 events=0) as sandbox:
        def call(method: str, params: dict[str, Any]) -> bytes:
            response = httpx.post(sandbox.webhook_url + method, json=params, timeout=300)
            response.raise_for_status()
            return response.content

        before = call("crm.deal.list", {"select": FIELDS})
        call("crm.deal.update", {"id": deals // 2, "fields": {"TITLE": "Renamed"}})
        call("crm.deal.delete", {"id": deals - 10})
        call("crm.deal.add", {"fields": {"TITLE": "Brand new"}})
        after = call("crm.deal.list", {"select": FIELDS})
    return before, after


def measure(before: bytes, after: bytes) -> dict[str, Any]:
    from b24explorer.core.jsondiff import JsonDiff
    from b24explorer.core.records import RecordTable
    from b24explorer.ui.qt import QApplication, QEventLoop

    app = QApplication.instance() or QApplication([])
    loop = QEventLoop(app)
    asyncio.set_event_loop(loop)
    out: dict[str, Any] = {}
    tmp = tempfile.mkdtemp(prefix="bench-diff-table-")

    async def timed(name: str, start: Callable[[], Any]) -> Any:
        await asyncio.sleep(0.05)
        t0 = time.perf_counter()
        result = await start()
        t1 = time.perf_counter()
        await asyncio.sleep(0.05)  # the beat after the last slice closes the gap
        out[name] = {"seconds": t1 - t0, "stall": heart.longest_gap(t0, t1)}
        return result

    async def work() -> None:
        idle_from = time.perf_counter()
        await asyncio.sleep(1.0)
        out["idle_stall"] = heart.longest_gap(idle_from, time.perf_counter())
        summary = await timed("diff", lambda: JsonDiff(before, after).job().run())
        out["diff_summary"] = [summary.added, summary.removed, summary.changed]

        async def make_table() -> Any:
            from b24explorer.core import jsondoc

            table = RecordTable(jsondoc.parse(before).get("result"))
            await asyncio.sleep(0)
            return table

        table = await timed("table", make_table)
        out["columns"] = len(table.columns)
        await timed("sort_amount", lambda: table.sort_job("OPPORTUNITY", descending=True).run())
        await timed("sort_title", lambda: table.sort_job("TITLE").run())
        await timed("csv", lambda: table.export_csv(os.path.join(tmp, "deals.csv")).run())
        await timed("ndjson", lambda: table.export_ndjson(os.path.join(tmp, "deals.ndjson")).run())

    heart = Heartbeat()
    with loop:
        loop.run_until_complete(work())
    out["csv_mb"] = os.path.getsize(os.path.join(tmp, "deals.csv")) / 1e6
    shutil.rmtree(tmp, ignore_errors=True)
    return out


def rows(quick: bool = False) -> list[Row]:
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    deals = 10_000 if quick else DEALS
    before, after = sandbox_bodies(deals)
    loads = best_of(lambda: (json.loads(before), json.loads(after)), runs=1)
    m = measure(before, after)
    label = f"{len(before) / 1e6:.1f} MB, {deals:,} deals, sandbox"
    idle = f"an idle loop's longest gap here, now: {m['idle_stall'] * 1000:.0f} ms"
    added, removed, changed = m["diff_summary"]
    pieces = [
        ("diff", f"Diff of two answers ({label}): longest event-loop stall (5 ms heartbeat)",
         f"{m['diff']['seconds']:.2f} s in all, +{added} −{removed} ~{changed}; {idle}"),
        ("table", "Table over the answer: columns and first rows, longest stall",
         f"{m['columns']} columns in {m['table']['seconds'] * 1000:.0f} ms"),
        ("sort_amount", "  sort by OPPORTUNITY (numeric strings), longest stall",
         f"{m['sort_amount']['seconds']:.2f} s in all"),
        ("sort_title", "  sort by TITLE (natural order), longest stall", f"{m['sort_title']['seconds']:.2f} s in all"),
        ("csv", "  export to CSV, longest stall", f"{m['csv_mb']:.1f} MB in {m['csv']['seconds']:.2f} s"),
        ("ndjson", "  export to NDJSON, longest stall", f"{m['ndjson']['seconds']:.2f} s in all"),
    ]
    out = [Row(figure, m[key]["stall"], "s", "budget", STALL_BUDGET, target=1.0, note=note)
           for key, figure, note in pieces]
    out.insert(1, Row("  diff, whole time", m["diff"]["seconds"], "s", "json.loads of both bodies", loads))
    return out


def main() -> int:
    print(render(rows(quick="--quick" in sys.argv)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
