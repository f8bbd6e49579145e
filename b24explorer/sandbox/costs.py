"""What serving costs a real portal, simulated: a network round trip per request, query time per list page, and
the COUNT of every matching row behind `total` when a page is asked for with `start >= 0`.

The handler adds up the work of one request (a batch's pages each count); the server sleeps it after the answer
is made and the portal's lock is released, so concurrent requests wait concurrently, as a portal's workers do.
"""

from __future__ import annotations

import math
import threading
from dataclasses import asdict, dataclass, fields
from typing import Any


@dataclass(frozen=True)
class Costs:
    """Seconds each; all zero (the default) is a loopback portal that answers as fast as it can."""

    request: float = 0.0  # every REST answer, errors included: the network round trip
    page: float = 0.0  # each list page, inside a batch too: the query
    counted_row: float = 0.0  # each matching row counted for `total`: pages asked with start >= 0 only

    def __post_init__(self) -> None:
        for item in fields(self):
            value = getattr(self, item.name)
            if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value) \
                    or value < 0:
                raise ValueError(f"cost {item.name!r} must be a finite number of seconds, at least 0")

    @classmethod
    def from_dict(cls, data: Any, base: Costs | None = None) -> Costs:
        """Costs from a JSON object of seconds; keys it leaves out keep their value in `base`."""
        if not isinstance(data, dict):
            raise ValueError("costs must be an object of seconds: request, page, counted_row")
        unknown = set(data) - {item.name for item in fields(cls)}
        if unknown:
            raise ValueError(f"unknown cost {sorted(unknown)[0]!r}; expected request, page, counted_row")
        return cls(**{**asdict(base or cls()), **data})

    def to_dict(self) -> dict[str, float]:
        return asdict(self)

    def list_page(self, counted_rows: int) -> float:
        """The work of one list page that counted `counted_rows` matching rows (0 when start=-1)."""
        return self.page + counted_rows * self.counted_row


class WorkMeter:
    """The simulated work of the request being handled on this thread, in seconds."""

    def __init__(self) -> None:
        self._local = threading.local()

    def begin(self) -> None:
        self._local.seconds = 0.0

    def add(self, seconds: float) -> None:
        self._local.seconds = self.spent() + seconds

    def spent(self) -> float:
        return getattr(self._local, "seconds", 0.0)
