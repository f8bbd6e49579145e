"""Big answers without a freeze: a 32 MB crm.deal.list answer (100,000 deals) in the response view.

Figures (issue 7, targets 1 and 4), each beside its reference:
- last byte received → first level of the tree painted, against `json.loads` on the same bytes (≤ 0.35×);
- the longest event-loop stall meanwhile, seen by a 5 ms heartbeat timer (≤ 150 ms);
- the slowest node expand: `result`, its ranges down to 100 deals near the end, a deal (≤ 50 ms);
- memory added by showing it (RSS), against the body size (≤ 2×);
- the naive way for comparison: a QTreeWidget filled with every node (stopped at 60 s);
- raw view, find and jq filter on the same answer: their longest stall (≤ 150 ms).
The body comes from the sandbox (`crm.deal.list` with a big page); each measured side runs in a fresh process.

Usage: python bench/bench_big_answer.py [--quick]
"""

from __future__ import annotations

import itertools
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
sys.path.insert(1, str(HERE.parent))

from _table import Row, render  # noqa: E402

DEALS = 100_000
FIELDS = ["ID", "TITLE", "TYPE_ID", "STAGE_ID", "CURRENCY_ID", "OPPORTUNITY", "COMPANY_ID", "CONTACT_ID",
          "ASSIGNED_BY_ID", "BEGINDATE", "CLOSEDATE", "OPENED", "CLOSED", "DATE_CREATE"]
NAIVE_LIMIT_S = 60.0
STALL_BUDGET = 0.150
EXPAND_BUDGET = 0.050
HEARTBEAT_MS = 5
FILTER = '[.result[] | select(.STAGE_ID == "WON")] | length'


# --- the body ---------------------------------------------------------------------------------------------
def sandbox_body(deals: int) -> bytes:
    """One crm.deal.list answer holding every deal, fetched over loopback HTTP from the sandbox."""
    import httpx

    from b24explorer.sandbox import Sandbox

    with Sandbox(deals=deals, plan="unlimited", page_size=deals, leads=0, contacts=0, companies=0, tasks=0,
                 events=0) as sandbox:
        response = httpx.post(sandbox.webhook_url + "crm.deal.list", json={"select": FIELDS}, timeout=300)
        response.raise_for_status()
        return response.content


def built_body(deals: int) -> bytes:
    """The same shape built here (when the sandbox is not available): UPPER_CASE fields, string ids, Y/N."""
    stages = ["NEW", "PREPARATION", "PREPAYMENT_INVOICE", "EXECUTING", "FINAL_INVOICE", "WON", "LOSE"]
    rows = [{
        "ID": str(i), "TITLE": f"Deal #{i}: Company {i % 977}", "TYPE_ID": ("SALE", "COMPLEX", "GOODS")[i % 3],
        "STAGE_ID": stages[i % 7], "CURRENCY_ID": ("USD", "EUR", "RUB")[i % 3],
        "OPPORTUNITY": f"{(i * 7919) % 1_000_000}.00", "COMPANY_ID": str(i % 5000), "CONTACT_ID": None,
        "ASSIGNED_BY_ID": str(1 + i % 50), "BEGINDATE": "2025-06-12T03:00:00+03:00",
        "CLOSEDATE": "2025-07-18T03:00:00+03:00", "OPENED": "Y" if i % 2 else "N", "CLOSED": "N",
        "DATE_CREATE": "2024-09-09T02:33:00+03:00",
    } for i in range(1, deals + 1)]
    envelope = {"result": rows, "total": deals,
                "time": {"start": 1.7e9, "finish": 1.7e9 + 0.5, "duration": 0.5, "processing": 0.4,
                         "date_start": "2025-01-01T00:00:00+03:00", "date_finish": "2025-01-01T00:00:00+03:00",
                         "operating": 0.4, "operating_reset_at": 1.7e9 + 600}}
    return json.dumps(envelope, separators=(",", ":"), ensure_ascii=False).encode()


def make_body(deals: int) -> tuple[bytes, str]:
    try:
        return sandbox_body(deals), "sandbox"
    except Exception as exc:  # the sandbox is optional for this figure; say which body was used
        print(f"sandbox body unavailable ({exc!r}); building one", file=sys.stderr)
        return built_body(deals), "built"


def count_nodes(raw: bytes) -> int:
    def walk(v: Any) -> int:
        if isinstance(v, dict):
            return 1 + sum(walk(x) for x in v.values())
        if isinstance(v, list):
            return 1 + sum(walk(x) for x in v)
        return 1
    return walk(json.loads(raw))


def best_of(fn: Any, runs: int = 3) -> float:
    times = []
    for _ in range(runs):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return statistics.median(times)


def rss_mb() -> float:
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 1e6


# --- the measured sides (each in its own process) ---------------------------------------------------------
class Heartbeat:
    """A 5 ms timer; the longest gap between its ticks over a window is the event loop's longest stall."""

    def __init__(self) -> None:
        from b24explorer.ui.qt import QTimer

        self.ticks: list[float] = []
        self.timer = QTimer()
        self.timer.setInterval(HEARTBEAT_MS)
        self.timer.timeout.connect(lambda: self.ticks.append(time.perf_counter()))
        self.timer.start()

    def longest_gap(self, start: float, end: float) -> float:
        ticks = [t for t in self.ticks if start <= t <= end]
        before = [t for t in self.ticks if t < start]
        after = [t for t in self.ticks if t > end]
        edges = ([before[-1]] if before else []) + ticks + ([after[0]] if after else [])
        return max((b - a for a, b in itertools.pairwise(edges)), default=end - start)


class PaintWatch:
    """Notes when a widget has finished its next paint (a zero timer queued from its paint event)."""

    def __init__(self, widget: Any) -> None:
        from b24explorer.ui.qt import QEvent, QObject, QTimer

        watch = self

        class Filter(QObject):
            def eventFilter(self, obj: Any, event: Any) -> bool:
                if watch.armed and event.type() == QEvent.Type.Paint:
                    watch.armed = False
                    QTimer.singleShot(0, watch.finish)
                return False

        self.armed = False
        self.done_at: float | None = None
        self._filter = Filter()
        widget.installEventFilter(self._filter)

    def arm(self) -> None:
        self.armed = True
        self.done_at = None

    def finish(self) -> None:
        self.done_at = time.perf_counter()


def spin(until: Any, timeout: float) -> None:
    """Run the event loop until `until()` is true (polled every 5 ms) or the timeout passes."""
    from PySide6.QtCore import QEventLoop

    from b24explorer.ui.qt import QTimer

    loop = QEventLoop()
    deadline = time.perf_counter() + timeout
    poll = QTimer()
    poll.setInterval(5)
    poll.timeout.connect(lambda: (until() or time.perf_counter() > deadline) and loop.quit())
    poll.start()
    loop.exec()
    poll.stop()


def settle(seconds: float) -> None:
    end = time.perf_counter() + seconds
    spin(lambda: time.perf_counter() >= end, seconds + 1)


def measure_ours(path: str) -> dict[str, Any]:
    from b24explorer.core.result import AjaxResult
    from b24explorer.ui.qt import QApplication, QTimer
    from b24explorer.ui.response_view import ResponseView

    raw = Path(path).read_bytes()
    app = QApplication.instance() or QApplication([])
    view = ResponseView()
    view.resize(1200, 800)
    view.show()
    heart = Heartbeat()
    settle(0.3)
    out: dict[str, Any] = {}
    idle_from = time.perf_counter()
    settle(2.0)  # the noise floor: the longest gap of an idle loop on this machine right now
    out["idle_stall"] = heart.longest_gap(idle_from, time.perf_counter())
    rss0 = rss_mb()

    painted = PaintWatch(view.tree.viewport())

    def show() -> None:
        # The last byte has just arrived: the client builds its result (the parse) and the window shows it,
        # in one event-loop turn as in the app; Qt then paints in a later turn.
        out["t0"] = time.perf_counter()
        result = AjaxResult(raw, status=200, method="crm.deal.list", elapsed=0.0)
        view.show_result(result)
        out["shown"] = time.perf_counter()
        painted.arm()

    QTimer.singleShot(20, show)
    spin(lambda: painted.done_at is not None, 120)
    out["t1"] = painted.done_at
    out["first_paint"] = out["t1"] - out["t0"]
    out["parse_and_show"] = out["shown"] - out["t0"]
    out["top_rows"] = view.model.rowCount()
    settle(0.2)
    out["first_stall"] = heart.longest_gap(out["t0"] - 0.02, out["t1"] + 0.1)

    # expanding, one click at a time as a user would: the 100,000-deal array, a range of 10,000, a range of
    # 100 deals near the end, a deal, the time block
    model, tree = view.model, view.tree
    expands: dict[str, float] = {}
    picked: dict[str, Any] = {}

    def deepest_range(index: Any) -> Any:
        return model.index(model.rowCount(index) - 1, 0, index)

    targets = [
        ("result", lambda: model.index(0, 0)),
        ("a range of ranges", lambda: deepest_range(picked["result"])),
        ("a range of 100 deals", lambda: deepest_range(picked["a range of ranges"])),
        ("a deal", lambda: model.index(50, 0, picked["a range of 100 deals"])),
        ("time", lambda: model.index(model.rowCount() - 1, 0)),
    ]
    for name, get in targets:
        index = get()
        picked[name] = index
        t0 = time.perf_counter()
        tree.expand(index)
        tree.scrollTo(index)
        tree.viewport().repaint()
        expands[name] = time.perf_counter() - t0
        settle(0.25)  # a user's pause between clicks
    out["expands"] = expands
    app.processEvents()
    out["rss_added"] = rss_mb() - rss0

    # raw view: open on the answer, then walk to its last page in slices
    t0 = time.perf_counter()
    view.tabs.setCurrentWidget(view.raw_view)
    view.raw_view.editor.viewport().repaint()
    t1 = time.perf_counter()
    settle(0.1)
    out["raw_open"] = t1 - t0
    out["raw_open_stall"] = heart.longest_gap(t0 - 0.01, t1 + 0.05)
    t0 = time.perf_counter()
    view.raw_view.show_last_page()
    spin(lambda: not view.raw_view.seeking, 300)
    t1 = time.perf_counter()
    out["raw_last"] = t1 - t0
    out["raw_pages"] = view.raw_view.page_count
    out["raw_last_stall"] = heart.longest_gap(t0, t1)
    view.tabs.setCurrentWidget(view.tree)

    # find a title near the end, in slices
    needle = "Deal #99999:" if len(raw) > 10_000_000 else "Deal #9999:"
    t0 = time.perf_counter()
    view.find_edit.setText(needle)
    spin(lambda: not view.searching, 300)
    t1 = time.perf_counter()
    out["find"] = t1 - t0
    out["find_hits"] = len(view.hits)
    out["find_stall"] = heart.longest_gap(t0, t1)

    # jq filter in a child process
    done: list[bool] = []
    view.filter_finished.connect(done.append)
    t0 = time.perf_counter()
    view.apply_filter(FILTER)
    spin(lambda: bool(done), 300)
    t1 = time.perf_counter()
    out["filter"] = t1 - t0
    out["filter_ok"] = bool(done and done[0])
    out["filter_output"] = view.shown_value if isinstance(view.shown_value, int) else None
    out["filter_stall"] = heart.longest_gap(t0, t1)

    # the same answer sent again, a few times: a parser whose answer is no longer shown is reused from the
    # pool with its buffers (the answer on screen keeps its own parser busy until it is replaced)
    repeats = []
    for _ in range(3):
        painted.done_at = None
        QTimer.singleShot(20, show)
        spin(lambda: painted.done_at is not None, 120)
        repeats.append(painted.done_at - out["t0"])
        settle(0.2)
    out["repeat_first_paint"] = min(repeats)
    out["repeat_stall"] = heart.longest_gap(out["t0"] - 0.02, painted.done_at + 0.1)
    return out


def measure_naive(path: str) -> dict[str, Any]:
    """The way that freezes: parse everything, then one QTreeWidgetItem per node, then paint."""
    from PySide6.QtWidgets import QApplication, QTreeWidget, QTreeWidgetItem

    raw = Path(path).read_bytes()
    app = QApplication.instance() or QApplication([])
    tree = QTreeWidget()
    tree.setColumnCount(3)
    tree.setHeaderLabels(["Key", "Value", "Type"])
    tree.setUniformRowHeights(True)
    tree.resize(1200, 800)
    tree.show()
    app.processEvents()
    rss0 = rss_mb()
    t0 = time.perf_counter()
    deadline = t0 + NAIVE_LIMIT_S
    value = json.loads(raw)
    added = 0
    stopped = False
    stack: list[tuple[Any, Any]] = [(tree.invisibleRootItem(), value)]
    while stack:
        parent, node = stack.pop()
        items = node.items() if isinstance(node, dict) else enumerate(node)
        for key, child in items:
            container = isinstance(child, dict | list)
            text = "" if container else json.dumps(child, ensure_ascii=False)
            item = QTreeWidgetItem(parent, [str(key), text, type(child).__name__])
            added += 1
            if container:
                stack.append((item, child))
        if added % 1000 < 30 and time.perf_counter() > deadline:
            stopped = True
            break
    tree.viewport().repaint()
    t1 = time.perf_counter()
    return {"first_paint": t1 - t0, "nodes": added, "stopped": stopped, "rss_added": rss_mb() - rss0}


def in_child(mode: str, path: str) -> dict[str, Any]:
    command = [sys.executable, str(Path(__file__).resolve()), f"--{mode}", path]
    env = dict(os.environ, QT_QPA_PLATFORM=os.environ.get("QT_QPA_PLATFORM", "offscreen"))
    proc = subprocess.run(command, capture_output=True, text=True, env=env, check=False, timeout=900)
    lines = [line for line in proc.stdout.splitlines() if line.startswith("RESULT ")]
    if proc.returncode or not lines:
        raise RuntimeError(f"{mode} side failed: {proc.stderr.strip()[-2000:]}")
    return json.loads(lines[-1][len("RESULT "):])


# --- the rows ------------------------------------------------------------------------------------------------
def rows(quick: bool = False) -> list[Row]:
    from b24explorer.core.lazyjson import lazy_root

    deals = 10_000 if quick else DEALS
    raw, origin = make_body(deals)
    size_mb = len(raw) / 1e6
    nodes = count_nodes(raw)
    loads = best_of(lambda: json.loads(raw))
    first_level = best_of(lambda: len(lazy_root(raw)["result"]))
    with tempfile.TemporaryDirectory() as tmp:
        path = os.path.join(tmp, "body.json")
        Path(path).write_bytes(raw)
        ours = in_child("ours", path)
        naive = in_child("naive", path)
    label = f"{size_mb:.1f} MB, {deals:,} deals, {nodes / 1e6:.2f} M nodes, {origin}"
    slowest = max(ours["expands"], key=ours["expands"].get)
    naive_note = (f"stopped at {NAIVE_LIMIT_S:.0f} s after {naive['nodes']:,} of {nodes:,} nodes" if naive["stopped"]
                  else f"{naive['nodes']:,} items, +{naive['rss_added']:,.0f} MB")
    return [
        Row(f"Big answer ({label}): last byte → first level painted", ours["first_paint"], "s",
            "json.loads", loads, target=0.35, note=f"parse + show {ours['parse_and_show'] * 1000:.0f} ms"),
        Row("  longest event-loop stall meanwhile (5 ms heartbeat)", ours["first_stall"], "s",
            "budget", STALL_BUDGET, target=1.0,
            note=f"an idle loop's longest gap here, now: {ours['idle_stall'] * 1000:.0f} ms"),
        Row(f"  slowest node expand ({slowest})", ours["expands"][slowest], "s", "budget", EXPAND_BUDGET,
            target=1.0, note=", ".join(f"{k} {v * 1000:.0f} ms" for k, v in ours["expands"].items())),
        Row("  memory added by showing it (RSS)", ours["rss_added"], "MB", "body", size_mb, target=2.0,
            note="the body itself, held once by the result, is not counted"),
        Row("  lazy read of the first level and of the 100,000-deal array alone", first_level, "s", "json.loads",
            loads),
        Row("  the same answer again → painted", ours["repeat_first_paint"], "s",
            "json.loads", loads, note=f"longest stall {ours['repeat_stall'] * 1000:.0f} ms"),
        Row("  naive QTreeWidget of every node → painted", naive["first_paint"], "s", "ours",
            ours["first_paint"], note=naive_note),
        Row("Raw view: open on the big answer, longest stall", ours["raw_open_stall"], "s", "budget",
            STALL_BUDGET, target=1.0, note=f"first page in {ours['raw_open'] * 1000:.0f} ms"),
        Row("  walk to the last page, longest stall", ours["raw_last_stall"], "s", "budget", STALL_BUDGET,
            target=1.0, note=f"{ours['raw_pages']:,} pages in {ours['raw_last']:.1f} s"),
        Row("jq filter over the big answer, longest UI stall", ours["filter_stall"], "s", "budget", STALL_BUDGET,
            target=1.0, note=f"child process, {ours['filter']:.1f} s, output {ours['filter_output']}"),
        Row("Find a title near the end, longest UI stall", ours["find_stall"], "s", "budget", STALL_BUDGET,
            target=1.0, note=f"{ours['find_hits']} hit in {ours['find']:.1f} s"),
    ]


def main() -> int:
    if len(sys.argv) == 3 and sys.argv[1] in ("--ours", "--naive"):
        os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
        result = measure_ours(sys.argv[2]) if sys.argv[1] == "--ours" else measure_naive(sys.argv[2])
        print("RESULT " + json.dumps(result), flush=True)
        os._exit(0)  # skip tearing down 1.5 M Qt items: not part of any figure
    print(render(rows(quick="--quick" in sys.argv)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
