"""The Diff and Table VIEWS of the window on a 100,000-deal answer: the event loop's longest stall while they work.

`bench_diff_table.py` measures the engines awaited on the loop; this one measures the widgets as the window has
them — shown (offscreen), driven by their own Qt timers, their models growing and repainting as rows arrive:
- the Diff view comparing two crm.deal.list answers of 100,000 deals (a deal changed, one deleted, one added);
- the Table view showing the answer's `/result` (columns, first rows), sorting it by TITLE and by OPPORTUNITY
  through a header click, and exporting it to CSV.
Each figure is the longest gap of a 5 ms heartbeat timer, beside the tree's budget (150 ms).

Usage: python bench/bench_diff_table_view.py [--quick]
"""

from __future__ import annotations

import asyncio
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
from bench_big_answer import STALL_BUDGET, Heartbeat  # noqa: E402
from bench_diff_table import DEALS, sandbox_bodies  # noqa: E402


def measure(before: bytes, after: bytes) -> dict[str, Any]:
    from b24explorer.core import jsondoc
    from b24explorer.ui.diff_view import DiffView
    from b24explorer.ui.qt import QApplication, QEventLoop
    from b24explorer.ui.table_view import TableView

    app = QApplication.instance() or QApplication([])
    loop = QEventLoop(app)
    asyncio.set_event_loop(loop)
    out: dict[str, Any] = {}
    tmp = tempfile.mkdtemp(prefix="bench-views-")

    def signal_future(*signals: Any) -> asyncio.Future[Any]:
        done: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
        for signal in signals:
            signal.connect(lambda *args: None if done.done() else done.set_result(args))
        return done

    async def timed(name: str, start: Callable[[], Any]) -> Any:
        await asyncio.sleep(0.05)
        t0 = time.perf_counter()
        result = await start()
        t1 = time.perf_counter()
        await asyncio.sleep(0.05)  # the beat after the last slice closes the gap
        out[name] = {"seconds": t1 - t0, "stall": heart.longest_gap(t0, t1)}
        return result

    async def work() -> None:
        diff_view = DiffView()
        diff_view.resize(1300, 700)
        diff_view.show()
        table_view = TableView()
        table_view.resize(1300, 700)
        table_view.show()
        await asyncio.sleep(0.2)
        idle_from = time.perf_counter()
        await asyncio.sleep(1.0)
        out["idle_stall"] = heart.longest_gap(idle_from, time.perf_counter())

        async def diff() -> Any:
            done = signal_future(diff_view.compared, diff_view.runner.failed)
            diff_view.compare(before, after, "before", "after")
            return await done

        (summary,) = await timed("diff", diff)
        out["diff_summary"] = (summary.added, summary.removed, summary.changed, diff_view.model.rowCount())

        root = jsondoc.parse(before).root  # the window's answer is parsed (lazily) when it arrives

        async def show() -> Any:
            table_view.show_value(root)
            await asyncio.sleep(0)
            return root

        await timed("table", show)
        out["rows"] = table_view.model.rowCount()
        out["columns"] = table_view.model.columnCount()
        header = table_view.table.horizontalHeader()
        columns = table_view.model.table.columns

        async def sort_by(column: str) -> Any:
            done = signal_future(table_view.sorted, table_view.sorter.failed)
            header.sectionClicked.emit(columns.index(column))
            return await done

        await timed("sort_title", lambda: sort_by("TITLE"))
        await timed("sort_amount", lambda: sort_by("OPPORTUNITY"))

        async def export() -> Any:
            done = signal_future(table_view.exported, table_view.exporter.failed)
            table_view.export(os.path.join(tmp, "deals.csv"), "csv")
            return await done

        await timed("csv", export)
        diff_view.close()
        table_view.close()

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
    m = measure(before, after)
    label = f"{len(before) / 1e6:.1f} MB, {deals:,} deals"
    added, removed, changed, listed = m["diff_summary"]
    idle = f"an idle loop's longest gap here, now: {m['idle_stall'] * 1000:.0f} ms"
    pieces = [
        ("diff", f"Diff VIEW of two answers ({label}): longest event-loop stall",
         f"{m['diff']['seconds']:.2f} s, +{added} −{removed} ~{changed}, {listed} rows listed; {idle}"),
        ("table", "Table VIEW of the answer's /result: longest stall",
         f"{m['rows']:,} rows × {m['columns']} columns in {m['table']['seconds'] * 1000:.0f} ms"),
        ("sort_title", "  header click: sort by TITLE, longest stall", f"{m['sort_title']['seconds']:.2f} s in all"),
        ("sort_amount", "  header click: sort by OPPORTUNITY, longest stall",
         f"{m['sort_amount']['seconds']:.2f} s in all"),
        ("csv", "  export to CSV from the view, longest stall", f"{m['csv_mb']:.1f} MB in {m['csv']['seconds']:.2f} s"),
    ]
    return [Row(figure, m[key]["stall"], "s", "budget", STALL_BUDGET, target=1.0, note=note)
            for key, figure, note in pieces]


def main() -> int:
    print(render(rows(quick="--quick" in sys.argv)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
