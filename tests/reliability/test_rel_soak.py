"""A short soak through the CLI: `b24x call --repeat 120` against a standard-plan sandbox (2/s over a 50 burst).

The portal's and the client's clocks run ten times faster (same limits in portal time, a tenth of the wall
time); `make reliability` runs the full 1,000 calls in real time (bench/soak.py). No QUERY_LIMIT_EXCEEDED may
reach the user, every call is answered, and the limiter keeps the portal's 503s rare (any is absorbed by a
retry). Memory is printed, not asserted (a figure, measured by the bench).
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import pytest
from rel_stats import count

BENCH = Path(__file__).resolve().parents[2] / "bench"


@pytest.fixture
def soak() -> Any:
    sys.path.insert(0, str(BENCH))
    try:
        import soak as module
    finally:
        sys.path.remove(str(BENCH))
    return module


@pytest.mark.slow
def test_short_soak_through_the_cli(soak: Any, rel_home: Path) -> None:
    fig = soak.run_soak(calls=120, scale=10)
    print("\n" + soak.report(fig))
    assert fig["answers"] == 120
    assert fig["ok"] == 120
    assert fig["user_qle"] == 0
    assert fig["exit_code"] == 0
    assert fig["limiter_waits"] > 0, "past the 50 burst the limiter must have waited"
    assert fig["requests_seen_by_portal"] == 120 + fig["server_503"]
    assert fig["server_503"] <= 3, "the limiter must stay (nearly) under the portal's bucket"
    count("soak.short_calls", fig["calls"])
