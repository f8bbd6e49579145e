"""`make reliability`: run the reliability suite with more fuzzing, then the 1,000-call soak, and print the figures.

Figures: fault matrix cells passed (fault × mode, through the core, the window and the CLI), fuzz cases run per
property, secret occurrences found in every file the app wrote and every export, keyring failure modes passed,
and the soak's errors, 503s and memory before/after. Exit status 1 when any of them fails its target.

`python bench/reliability.py [--fuzz-scale 4] [--soak-calls 1000] [--soak-scale 1] [--skip-soak]`
(`make reliability` runs it inside the test D-Bus session, so the keyring tests use a real Secret Service.)
"""

from __future__ import annotations

import argparse
import json
import os
import re
import subprocess
import sys
import tempfile
import time
import xml.etree.ElementTree as ET
from collections import defaultdict
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "bench"))

MATRIX = {
    "test_fault_matrix_core": "core",
    "test_fault_matrix_window": "window",
    "test_fault_matrix_cli": "CLI",
}


def run_suite(fuzz_scale: int) -> tuple[int, dict[str, Any], list[dict[str, str]], float]:
    with tempfile.TemporaryDirectory() as tmp:
        report = Path(tmp) / "figures.json"
        junit = Path(tmp) / "junit.xml"
        env = {**os.environ, "B24X_REL_REPORT": str(report), "B24X_FUZZ_SCALE": str(fuzz_scale),
               "QT_QPA_PLATFORM": os.environ.get("QT_QPA_PLATFORM", "offscreen")}
        started = time.monotonic()
        proc = subprocess.run(
            [sys.executable, "-m", "pytest", "tests/reliability", "-q", "-p", "no:cacheprovider",
             f"--junitxml={junit}", "-o", "junit_family=xunit2"],
            cwd=ROOT, env=env, text=True, capture_output=True,
        )
        elapsed = time.monotonic() - started
        tail = proc.stdout.strip().splitlines()[-1:] if proc.stdout.strip() else []
        print(f"pytest tests/reliability: {' '.join(tail)} ({elapsed:.0f} s, fuzz x{fuzz_scale})")
        if proc.returncode not in (0, 1):
            print(proc.stdout[-3000:], proc.stderr[-3000:], sep="\n")
        figures = json.loads(report.read_text()) if report.exists() else {}
        cases = []
        if junit.exists():
            for case in ET.parse(junit).iter("testcase"):
                outcome = "passed"
                for child in case:
                    if child.tag in ("failure", "error"):
                        outcome = "failed"
                    elif child.tag == "skipped":
                        outcome = "skipped"
                cases.append({"name": case.get("name", ""), "file": case.get("classname", ""), "outcome": outcome})
        failed = [c for c in cases if c["outcome"] == "failed"]
        for case in failed:
            print(f"  FAILED {case['file']}::{case['name']}")
        return proc.returncode, figures, cases, elapsed


def matrix_table(cases: list[dict[str, str]]) -> tuple[str, int, int]:
    cells: dict[str, dict[tuple[str, str], str]] = defaultdict(dict)
    faults: list[str] = []
    modes: dict[str, list[str]] = defaultdict(list)
    for case in cases:
        match = re.fullmatch(r"(test_fault_matrix_\w+)\[(.+)-(call_v3|call|batch|list)\]", case["name"])
        if not match or match.group(1) not in MATRIX:
            continue
        surface, fault, mode = MATRIX[match.group(1)], match.group(2), match.group(3)
        cells[surface][(fault, mode)] = case["outcome"]
        if fault not in faults:
            faults.append(fault)
        if mode not in modes[surface]:
            modes[surface].append(mode)
    columns = [(s, m) for s in MATRIX.values() if s in cells for m in modes[s]]
    header = f"{'fault':<15}" + "".join(f" {s + ' ' + m:>14}" for s, m in columns)
    lines = [header]
    passed = total = 0
    for fault in faults:
        row = f"{fault:<15}"
        for surface, mode in columns:
            outcome = cells[surface].get((fault, mode), "-")
            total += outcome != "-"
            passed += outcome == "passed"
            row += f" {'ok' if outcome == 'passed' else outcome:>14}"
        lines.append(row)
    return "\n".join(lines), passed, total


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--fuzz-scale", type=int, default=4, help="hypothesis examples x N (default 4)")
    parser.add_argument("--soak-calls", type=int, default=1000)
    parser.add_argument("--soak-scale", type=float, default=1.0, help="time scale of the soak (1 = real time)")
    parser.add_argument("--skip-soak", action="store_true")
    args = parser.parse_args(argv)

    code, figures, cases, _elapsed = run_suite(args.fuzz_scale)
    ok = code == 0

    table, passed, total = matrix_table(cases)
    print(f"\nFault matrix: {passed}/{total} cells passed (fault x mode through core, window, CLI)")
    print(table)

    writes = [c for c in cases if "performed" in c["name"] or "written once" in c["name"]]
    print(f"\nCreates hit by a fault (timeout, reset before/after, 5xx, truncated, 503) performed at most once: "
          f"{sum(c['outcome'] == 'passed' for c in writes)}/{len(writes)} cases")

    chaos = [c for c in cases if c["file"].endswith("test_rel_chaos")]
    print(f"Chaos (every fault at once, p={0.035} each): {figures.get('chaos.operations', 0)} operations, "
          f"{figures.get('chaos.faulted', 0)} ended in a classified error, none unclassified, no write twice "
          f"({sum(c['outcome'] == 'passed' for c in chaos)}/{len(chaos)} passed)")

    fuzz = {k.split(".", 1)[1]: v for k, v in sorted(figures.items()) if k.startswith("fuzz.")}
    print(f"\nFuzz cases run: {sum(fuzz.values())} in total — " + ", ".join(f"{k} {v}" for k, v in fuzz.items()))

    occurrences = figures.get("secrets.occurrences")
    scanned = figures.get("secrets.files_scanned", 0)
    secret_tests = [c for c in cases if "secret_never_leaves" in c["name"]]
    print(f"\nSecret occurrences found: {occurrences if occurrences is not None else 'n/a'} in {scanned} files "
          f"scanned (app dirs + exports, window and CLI runs: "
          f"{sum(c['outcome'] == 'passed' for c in secret_tests)}/{len(secret_tests)} passed)")
    if occurrences:
        ok = False

    crash_tests = [c for c in cases if c["file"].endswith("test_rel_crash")]
    print(f"Crash reports: {figures.get('secrets.crash_reports', 0)} written by the crash handler, secret masked "
          f"({sum(c['outcome'] == 'passed' for c in crash_tests)}/{len(crash_tests)} tests passed)")
    keyring_tests = [c for c in cases if c["file"].endswith("test_rel_keyring")]
    print(f"Keyring failure modes: {sum(c['outcome'] == 'passed' for c in keyring_tests)}/{len(keyring_tests)} "
          f"passed (no backend, locked, prompt dismissed, entry deleted; read and save paths)"
          + (" — real Secret Service" if os.environ.get("B24X_REAL_KEYRING") == "1" else ""))

    if not args.skip_soak:
        import soak

        print(f"\nSoak ({args.soak_calls} calls; about {args.soak_calls / 2 / 60 / args.soak_scale:.0f} min) …",
              flush=True)
        fig = soak.run_soak(args.soak_calls, args.soak_scale)
        print(soak.report(fig))
        growth = fig["rss_after_mb"] - fig["rss_early_mb"]
        print(f"  memory growth over the last 90 % of the calls: {growth:+.1f} MB "
              f"({'flat' if growth < 10 else 'GROWING'})")
        if fig["user_qle"] or fig["answers"] != fig["calls"] or fig["user_errors"]:
            ok = False
    print("\nreliability:", "PASS" if ok else "FAIL")
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
