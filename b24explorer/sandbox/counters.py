"""What reached the server, so tests can prove a request was (or was not) sent or repeated."""

from __future__ import annotations

import threading
from collections import Counter
from typing import Any


class Counters:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._requests: Counter[str] = Counter()
        self._calls: Counter[str] = Counter()
        self._writes: Counter[str] = Counter()

    def _get(self, counter: Counter[str], method: str | None) -> int:
        with self._lock:
            return sum(counter.values()) if method is None else counter[method.lower()]

    def requests(self, method: str | None = None) -> int:
        """HTTP requests that reached the server (a batch is one request, of method `batch`)."""
        return self._get(self._requests, method)

    def calls(self, method: str | None = None) -> int:
        """Method executions, commands inside a batch included."""
        return self._get(self._calls, method)

    def writes(self, method: str | None = None) -> int:
        """Writes (add/update/delete) that handlers performed."""
        return self._get(self._writes, method)

    def count_request(self, method: str) -> None:
        with self._lock:
            self._requests[method] += 1

    def count_call(self, method: str) -> None:
        with self._lock:
            self._calls[method] += 1

    def count_write(self, method: str) -> None:
        with self._lock:
            self._writes[method] += 1

    def reset(self) -> None:
        with self._lock:
            self._requests.clear()
            self._calls.clear()
            self._writes.clear()

    def snapshot(self) -> dict[str, Any]:
        with self._lock:
            return {"requests": dict(self._requests), "calls": dict(self._calls), "writes": dict(self._writes),
                    "total_requests": sum(self._requests.values()), "total_writes": sum(self._writes.values())}
