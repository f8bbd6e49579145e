"""What the workspace keeps between runs: the saved connections and the window's state, in ``settings.json``
(:class:`FileState`, over :mod:`b24explorer.core.settings`) or in memory (:class:`MemoryState`: tests, and the
fallback when the settings file cannot be used).

The window's state is a plain dict (geometry, splitters, the open connection's id, the last request of each
connection by id, recent methods) so the window alone decides what it holds.
"""

from __future__ import annotations

import copy
import sys
from typing import TYPE_CHECKING, Any, Protocol

from . import settings as core_settings
from .connections import Auth, Connection, Storage

if TYPE_CHECKING:
    from concurrent.futures import ThreadPoolExecutor

UiState = dict[str, Any]


class WorkspaceState(Protocol):
    """Saved connections and window state. ``notices`` are messages the user should read once."""

    notices: list[str]

    def load_connections(self) -> list[Connection]: ...
    def save_connections(self, connections: list[Connection]) -> None: ...
    def load_ui_state(self) -> UiState: ...
    def save_ui_state(self, state: UiState) -> None: ...
    def history_response_cap(self) -> int | None: ...
    def flush(self) -> None: ...


class MemoryState:
    """Everything in memory only."""

    def __init__(self) -> None:
        self.connections: list[Connection] = []
        self.ui_state: UiState = {}
        self.notices: list[str] = []

    def load_connections(self) -> list[Connection]:
        return list(self.connections)

    def save_connections(self, connections: list[Connection]) -> None:
        self.connections = list(connections)

    def load_ui_state(self) -> UiState:
        return copy.deepcopy(self.ui_state)

    def save_ui_state(self, state: UiState) -> None:
        self.ui_state = copy.deepcopy(state)

    def history_response_cap(self) -> int | None:
        return None

    def flush(self) -> None:
        return None


class FileState:
    """Connection profiles and UI prefs in settings.json.

    Loading is synchronous (a small file, read before the window shows); writes go to one worker thread, in
    order, so the UI thread never waits on the disk. Without a running loop (the command line) they are written
    at once.
    """

    def __init__(self, store: core_settings.SettingsStore | None = None) -> None:
        self.store = store if store is not None else core_settings.SettingsStore()
        self.settings = self.store.load()
        self.notices: list[str] = list(self.store.notices)
        self._writer: ThreadPoolExecutor | None = None

    def _save(self) -> None:
        snapshot = core_settings.Settings.from_dict(copy.deepcopy(self.settings.to_dict()))
        asyncio = sys.modules.get("asyncio")  # not imported yet at the start: then no loop runs either
        try:
            loop = asyncio.get_running_loop() if asyncio is not None else None
        except RuntimeError:
            loop = None
        if loop is None:
            self.store.save(snapshot)
            return
        if self._writer is None:
            from concurrent.futures import ThreadPoolExecutor  # not needed before the first save

            self._writer = ThreadPoolExecutor(max_workers=1, thread_name_prefix="b24x-settings")
        loop.run_in_executor(self._writer, self.store.save, snapshot)

    def flush(self) -> None:
        """Wait for pending writes (at exit)."""
        if self._writer is not None:
            self._writer.shutdown(wait=True)
            self._writer = None

    def history_response_cap(self) -> int | None:
        return self.settings.ui.history_response_cap

    def load_connections(self) -> list[Connection]:
        return [Connection(c.keyring_ref, c.name, c.portal, c.user_id, c.limits, Storage.SAVED, Auth(c.auth),
                           ca_file=c.ca_file, read_only=c.read_only)
                for c in self.settings.connections]

    def save_connections(self, connections: list[Connection]) -> None:
        old = {c.keyring_ref: c for c in self.settings.connections}
        profiles = []
        for conn in connections:
            profile = old.get(conn.id) or core_settings.ConnectionProfile(
                name=conn.name, portal=conn.portal, user_id=conn.user_id, keyring_ref=conn.id)
            profile.name, profile.portal, profile.user_id, profile.limits = (conn.name, conn.portal, conn.user_id,
                                                                             conn.limits)
            profile.read_only = conn.read_only
            profile.auth, profile.ca_file = str(conn.auth), conn.ca_file
            profiles.append(profile)
        self.settings.connections = profiles
        self._save()

    def load_ui_state(self) -> UiState:
        ui = self.settings.ui
        return {
            "geometry": ui.window_geometry,
            "window_state": ui.window_state,
            "main_splitter": ui.splitters.get("main", ""),
            "centre_splitter": ui.splitters.get("centre", ""),
            "connection": ui.last_connection,
            "recent_methods": list(ui.recent_methods),
            "last_request": {c.keyring_ref: {"method": c.last_request.method, "params": c.last_request.params,
                                             "api": c.last_request.api, "request_id": c.last_request.request_id}
                             for c in self.settings.connections if c.last_request.method},
        }

    def save_ui_state(self, state: UiState) -> None:
        ui = self.settings.ui
        ui.window_geometry = str(state.get("geometry") or "")
        ui.window_state = str(state.get("window_state") or "")
        ui.splitters = {"main": str(state.get("main_splitter") or ""),
                        "centre": str(state.get("centre_splitter") or "")}
        current = self.settings.connection(str(state.get("connection") or ""))
        ui.last_connection = current.keyring_ref if current else ""
        for key, request in (state.get("last_request") or {}).items():
            profile = self.settings.connection(key)
            if profile is not None and request.get("method"):
                self.settings.remember_request(profile.keyring_ref, str(request["method"]),
                                               str(request.get("params") or "{}"), int(request.get("api") or 2),
                                               str(request.get("request_id") or ""))
        ui.recent_methods = [str(m) for m in state.get("recent_methods") or []][:core_settings.MAX_RECENT_METHODS]
        self._save()
