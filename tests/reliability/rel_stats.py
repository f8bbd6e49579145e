"""Figures the reliability run reports (`make reliability` reads them): fuzz cases run, cells passed, …"""

from __future__ import annotations

from collections import Counter

COUNTS: Counter[str] = Counter()


def count(name: str, n: int = 1) -> None:
    COUNTS[name] += n


def examples(n: int) -> int:
    """Hypothesis examples for a property: `n` in the test suite, times B24X_FUZZ_SCALE in `make reliability`."""
    import os

    try:
        scale = max(1, int(os.environ.get("B24X_FUZZ_SCALE", "1")))
    except ValueError:
        scale = 1
    return n * scale
