"""Methods a connection keeps on REST v3 after migrating them: the window then sends them over v3 by default.

One small JSON file in the app's config directory, `{connection id: [method, …]}`; no secrets in it. Reads are
cheap and synchronous; `save` writes atomically (the window calls it off the UI thread).
"""

from __future__ import annotations

import json
from pathlib import Path

from .. import paths
from ..export import replacing

FILE_NAME = "v3-methods.json"


class KeptV3:
    def __init__(self, path: Path | None = None) -> None:
        self.path = path if path is not None else paths.config_dir(create=False) / FILE_NAME
        self._methods: dict[str, set[str]] = {}
        self._load()

    def _load(self) -> None:
        try:
            data = json.loads(self.path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return  # no file yet, or an unreadable one: nothing is kept (the next save rewrites it)
        if isinstance(data, dict):
            self._methods = {str(conn): {str(m).lower() for m in methods if isinstance(m, str)}
                             for conn, methods in data.items() if isinstance(methods, list)}

    def keeps(self, connection: str, method: str) -> bool:
        return method.strip().lower() in self._methods.get(connection, set())

    def methods(self, connection: str) -> list[str]:
        return sorted(self._methods.get(connection, set()))

    def set(self, connection: str, method: str, keep: bool = True) -> None:
        """Keep (or stop keeping) `method` on v3 for `connection`; `save` writes it."""
        kept = self._methods.setdefault(connection, set())
        if keep:
            kept.add(method.strip().lower())
        else:
            kept.discard(method.strip().lower())
        if not kept:
            del self._methods[connection]

    def save(self) -> None:
        data = {conn: sorted(methods) for conn, methods in sorted(self._methods.items())}
        with replacing(self.path) as out:
            out.write(json.dumps(data, indent=2).encode())
