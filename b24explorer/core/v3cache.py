"""The portal's REST v3 facts cached on disk, one file per portal: its v3 methods (from
`rest.documentation.openapi`, or none when the portal has no REST v3), the document itself for the catalog,
the v3 methods' scopes (`rest.scope.list`) and, per webhook, the scopes it holds — each with the time it was
read, so a call costs no look-up while the entry is fresh and an old one is read again in the background.

Webhooks are told apart by a one-way digest of their URL; no secret is written.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import re
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .paths import cache_dir

FRESH_SECONDS = 24 * 3600  # older entries are used, and read again in the background
_SCHEMA = 1


def hook_digest(portal: str, user_id: int, secret: str) -> str:
    """A one-way name for a webhook (its scopes are cached under it)."""
    return hashlib.sha256(f"{portal}\n{user_id}\n{secret}".encode()).hexdigest()[:24]


@dataclass
class PortalEntry:
    fetched_at: float
    available: bool  # False: the portal has no REST v3 (its document's method is not found)
    methods: list[str] = field(default_factory=list)
    document: Any = None
    scopes: dict[str, str] | None = None  # v3 method -> the scope it needs
    scopes_at: float = 0.0
    hooks: dict[str, dict[str, Any]] = field(default_factory=dict)  # digest -> {"scopes": [...], "at": t}

    def age(self, now: float | None = None) -> float:
        return max(0.0, (time.time() if now is None else now) - self.fetched_at)

    def to_json(self) -> dict[str, Any]:
        return {
            "schema": _SCHEMA,
            "fetched_at": self.fetched_at,
            "available": self.available,
            "methods": self.methods,
            "document": self.document,
            "scopes": self.scopes,
            "scopes_at": self.scopes_at,
            "hooks": self.hooks,
        }

    @classmethod
    def from_json(cls, data: Any) -> PortalEntry | None:
        if not isinstance(data, dict) or data.get("schema") != _SCHEMA:
            return None
        try:
            methods = [str(m) for m in data.get("methods") or []]
            scopes = data.get("scopes")
            return cls(
                fetched_at=float(data["fetched_at"]),
                available=bool(data["available"]),
                methods=methods,
                document=data.get("document"),
                scopes={str(k): str(v) for k, v in scopes.items()} if isinstance(scopes, dict) else None,
                scopes_at=float(data.get("scopes_at") or 0.0),
                hooks={str(k): v for k, v in (data.get("hooks") or {}).items() if isinstance(v, dict)},
            )
        except (KeyError, TypeError, ValueError, AttributeError):
            return None


class V3Cache:
    """One portal's entry on disk. Reading never raises (a broken file is a miss); writing is atomic."""

    def __init__(self, portal: str, directory: Path | None = None) -> None:
        self.portal = portal
        self._directory = directory

    @property
    def path(self) -> Path:
        directory = self._directory or cache_dir(create=False) / "v3"
        name = re.sub(r"[^A-Za-z0-9.\-]+", "_", self.portal.split("://", 1)[-1]).strip("_") or "portal"
        return directory / f"{name}.json"

    def load(self) -> PortalEntry | None:
        try:
            text = self.path.read_text(encoding="utf-8")
        except OSError:
            return None
        try:
            return PortalEntry.from_json(json.loads(text))
        except ValueError:
            return None

    def save(self, entry: PortalEntry) -> bool:
        path = self.path
        tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            tmp.write_text(json.dumps(entry.to_json(), ensure_ascii=False), encoding="utf-8")
            os.replace(tmp, path)
        except (OSError, TypeError, ValueError):
            with contextlib.suppress(OSError):
                tmp.unlink()
            return False
        return True
