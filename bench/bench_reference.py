"""The offline reference catalog: what loading it costs, and what a pre-send check costs.

Figures, each in a fresh process so the load is a cold first use: the time of the first `reference_catalog()`
call (the window makes it after its first paint, so it never delays the start), the memory the loaded catalog
keeps and its peak while loading (tracemalloc: Python allocations only; it slows the load a little), and the time of one `check_request`
on a request with mistakes (it runs as the user types, so it must fit well inside a frame).

Usage: python bench/bench_reference.py   (or through `make bench`: rows())
"""

from __future__ import annotations

import json
import statistics
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
sys.path.insert(1, str(HERE.parent))

from _table import Row  # noqa: E402

LOAD_BUDGET_S = 0.300  # a background load right after the first paint; the user is not waiting on it yet
MEMORY_BUDGET_MB = 5.0  # "a few MB at most"
CHECK_BUDGET_US = 2000.0  # per keystroke, next to a 16 ms frame
ROUNDS = 5

_CHILD = """
import json, time, tracemalloc
tracemalloc.start()
from b24explorer.core import reference, precheck
base = tracemalloc.get_traced_memory()[0]
t0 = time.perf_counter()
catalog = reference.reference_catalog()
load = time.perf_counter() - t0
kept, peak = tracemalloc.get_traced_memory()
tracemalloc.stop()
params = {"entityTypeId": 2, "filtr": {"id": 1}, "FILTER": {}, "filter": {">id": 0}, "ID": 1}
t0 = time.perf_counter()
for _ in range(200):
    precheck.check_request("crm.item.list", params)
check = (time.perf_counter() - t0) / 200
print(json.dumps({"load": load, "kept": (kept - base) / 1e6, "peak": (peak - base) / 1e6, "check": check,
                  "methods": len(catalog), "v2": catalog.count(2), "v3": catalog.count(3)}))
"""


def measure() -> dict[str, float]:
    runs = []
    for _ in range(ROUNDS):
        out = subprocess.run([sys.executable, "-c", _CHILD], capture_output=True, text=True, check=True,
                             cwd=HERE.parent)
        runs.append(json.loads(out.stdout))
    result = {key: statistics.median(run[key] for run in runs) for key in runs[0]}
    return result


def rows(quick: bool = False) -> list[Row]:
    m = measure()
    size_kb = sum(p.stat().st_size for p in (HERE.parent / "resources" / "reference").glob("*.gz")) / 1000
    label = f"{m['methods']:.0f} methods: v2 {m['v2']:.0f}, v3 {m['v3']:.0f}; file {size_kb:.0f} kB"
    return [
        Row(f"Reference catalog ({label}): first load", m["load"], "s", "budget", LOAD_BUDGET_S, target=1.0,
            note=f"median of {ROUNDS} fresh processes; after the first paint"),
        Row("  memory kept by the loaded catalog", m["kept"], "MB", "budget", MEMORY_BUDGET_MB, target=1.0,
            note=f"peak while loading {m['peak']:.1f} MB (tracemalloc)"),
        Row("  one pre-send check (crm.item.list, 4 findings)", m["check"] * 1e6, "µs", "budget", CHECK_BUDGET_US,
            target=1.0),
    ]


def main() -> int:
    from _table import render

    print(render(rows()))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
