"""`make bench`: runs every `bench/bench_*.py` that exposes `rows()`, each in its own process, and prints
one table: each figure, its reference, the ratio, and pass/fail against its target.

Usage: python bench/run_all.py [--only NAME ...] [--quick]
"""

from __future__ import annotations

import argparse
import importlib
import json
import os
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
sys.path.insert(1, str(HERE.parent))

from _table import Row, render  # noqa: E402

MARK = "BENCH-ROWS "
# The start times processes of a fifth of a second: it runs first, before any other benchmark has loaded the machine
# (the list-all at latency keeps both cores busy for minutes). The table keeps the benchmarks' name order.
RUN_FIRST = ("bench_start",)


def run_one(name: str, quick: bool) -> None:
    """Child mode: import one benchmark, print its rows as JSON on a marked line."""
    module = importlib.import_module(name)
    rows = module.rows(quick=quick)
    print(MARK + json.dumps([r.as_dict() if isinstance(r, Row) else r for r in rows]), flush=True)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", nargs="*", help="benchmark module names (e.g. bench_big_answer)")
    parser.add_argument("--quick", action="store_true", help="smaller inputs, for a smoke run")
    parser.add_argument("--child", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        run_one(args.child, args.quick)
        return 0
    names = sorted(p.stem for p in HERE.glob("bench_*.py"))
    if args.only:
        names = [n for n in names if n in args.only]
    env = dict(os.environ, QT_QPA_PLATFORM=os.environ.get("QT_QPA_PLATFORM", "offscreen"))
    rows_of: dict[str, list[Row]] = {}
    problems: list[str] = []
    for name in sorted(names, key=lambda n: (n not in RUN_FIRST, n)):
        source = (HERE / f"{name}.py").read_text(encoding="utf-8")
        if "def rows(" not in source:
            problems.append(f"{name}: no rows() function, skipped")
            continue
        started = time.perf_counter()
        print(f"running {name} …", file=sys.stderr, flush=True)
        command = [sys.executable, str(HERE / "run_all.py"), "--child", name, *(["--quick"] if args.quick else [])]
        proc = subprocess.run(command, capture_output=True, text=True, env=env, check=False)
        found = [line for line in proc.stdout.splitlines() if line.startswith(MARK)]
        if proc.returncode or not found:
            tail = (proc.stderr or proc.stdout).strip().splitlines()[-5:]
            problems.append(f"{name}: failed (exit {proc.returncode}): " + " / ".join(tail))
            continue
        rows_of[name] = [Row(**r) for r in json.loads(found[-1][len(MARK):])]
        print(f"  {name}: {time.perf_counter() - started:.1f} s", file=sys.stderr, flush=True)
    rows = [row for name in names for row in rows_of.get(name, [])]
    print()
    print(render(rows))
    for problem in problems:
        print(f"! {problem}")
    failed = [r for r in rows if r.passed is False]
    print(f"\n{sum(r.passed is True for r in rows)} passed, {len(failed)} failed, "
          f"{sum(r.passed is None for r in rows)} informative")
    return 1 if failed or any("failed" in p for p in problems) else 0


if __name__ == "__main__":
    sys.exit(main())
