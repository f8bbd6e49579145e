"""REST v3 `Idempotency-Key`: a successful write's answer, kept 24 hours per (webhook, method, key).

A repeat with the same key and the same body gets the stored answer (`Idempotent-Replayed: true`) and does not
run again; the same key with another body is refused (422). Errors are not stored: a repeat runs again.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from typing import Any

KEEP_SECONDS = 24 * 3600


@dataclass(frozen=True)
class Stored:
    digest: str
    status: int
    body: bytes
    at: float


def body_digest(params: Any) -> str:
    return hashlib.sha256(json.dumps(params, sort_keys=True, default=str).encode()).hexdigest()


def valid_key(key: str) -> bool:
    return 1 <= len(key) <= 255 and all(32 < ord(c) < 127 for c in key)


class IdempotencyRecords:
    def __init__(self, keep_seconds: float = KEEP_SECONDS) -> None:
        self.keep_seconds = keep_seconds
        self._records: dict[tuple[str, str, str], Stored] = {}

    def find(self, key: tuple[str, str, str], now: float) -> Stored | None:
        stored = self._records.get(key)
        if stored is not None and now - stored.at >= self.keep_seconds:
            del self._records[key]
            return None
        return stored

    def keep(self, key: tuple[str, str, str], digest: str, status: int, body: bytes, now: float) -> None:
        self._records[key] = Stored(digest, status, body, now)

    def clear(self) -> None:
        self._records.clear()
