"""Versioned settings: connection profiles and UI preferences in ``settings.json`` in the config directory.

No secret is ever stored here: a connection holds its name, portal, user id and the *reference* of its keyring
entry (see :mod:`b24explorer.core.vault`). The file carries ``"version": N``; older files are migrated step by
step after a copy of the original is kept beside it. A file that cannot be read (bad JSON, wrong shape) is moved
aside and defaults are used — the user gets a notice, the app never crashes. Writes are atomic (a temporary file
renamed over the old one), so a crash mid-write leaves the previous settings intact.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import tempfile
import threading
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from . import paths
from .redact import redact_text

CURRENT_VERSION = 2
FILE_NAME = "settings.json"
DEFAULT_HISTORY_CAP = 1024 * 1024  # bytes of a response body kept in the history
MAX_RECENT_METHODS = 20
LIMIT_PRESETS = ("standard", "enterprise", "unlimited")
THEMES = ("system", "light", "dark")


class SettingsError(ValueError):
    """A change the settings refuse (duplicate name, unknown connection, …); the message says which."""


# ---------------------------------------------------------------- model


@dataclass
class LastRequest:
    """The request a connection showed when the app last closed."""

    method: str = ""
    params: str = "{}"  # the editor's text, as the user left it
    api: int = 2
    request_id: str = ""


@dataclass
class ConnectionProfile:
    """A saved portal connection. ``keyring_ref`` names its keyring entry and is its stable id."""

    name: str
    portal: str  # scheme://host[:port] — never the webhook path
    user_id: int
    keyring_ref: str
    limits: str = "standard"  # a rate-limit preset: standard | enterprise | unlimited
    read_only: bool = False  # methods that may change data are refused before they are sent
    auth: str = "webhook"  # what the keyring entry holds: webhook | oauth (an application's credentials)
    ca_file: str = ""  # a CA file (PEM) trusted for this portal besides the OS trust store
    last_request: LastRequest = field(default_factory=LastRequest)
    recent_methods: list[str] = field(default_factory=list)

    @property
    def host(self) -> str:
        return self.portal.split("://", 1)[-1]

    @classmethod
    def from_webhook(cls, name: str, webhook: Any, keyring_ref: str, limits: str = "standard") -> ConnectionProfile:
        """A profile for a parsed webhook (anything with ``portal`` and ``user_id``); the secret is not read."""
        return cls(name=name, portal=str(webhook.portal), user_id=int(webhook.user_id), keyring_ref=keyring_ref,
                   limits=limits)


@dataclass
class UiPrefs:
    """The window's layout and the preferences not tied to one connection."""

    window_geometry: str = ""  # base64 of QWidget.saveGeometry()
    window_state: str = ""  # base64 of QMainWindow.saveState()
    splitters: dict[str, str] = field(default_factory=dict)  # splitter name -> base64 state
    theme: str = "system"
    history_response_cap: int = DEFAULT_HISTORY_CAP
    last_connection: str = ""  # keyring_ref of the connection open at exit
    recent_methods: list[str] = field(default_factory=list)  # across all connections


@dataclass
class Settings:
    """The whole ``settings.json``: its version, the saved connections and the UI preferences."""

    version: int = CURRENT_VERSION
    connections: list[ConnectionProfile] = field(default_factory=list)
    ui: UiPrefs = field(default_factory=UiPrefs)

    # -- connections

    def connection(self, key: str) -> ConnectionProfile | None:
        """By keyring reference or by name."""
        for c in self.connections:
            if key in (c.keyring_ref, c.name):
                return c
        return None

    def add_connection(self, profile: ConnectionProfile) -> None:
        name = profile.name.strip()
        if not name:
            raise SettingsError("A connection needs a name.")
        if any(c.name == name for c in self.connections):
            raise SettingsError(f"A connection named '{name}' already exists.")
        if any(c.keyring_ref == profile.keyring_ref for c in self.connections):
            raise SettingsError("This keyring reference is already used by another connection.")
        if profile.limits not in LIMIT_PRESETS:
            raise SettingsError(f"Unknown limits preset '{profile.limits}' (use one of {', '.join(LIMIT_PRESETS)}).")
        if "/rest/" in profile.portal:
            raise SettingsError("The portal must be scheme://host only — the webhook itself belongs in the keyring.")
        profile.name = name
        self.connections.append(profile)

    def rename_connection(self, key: str, new_name: str) -> ConnectionProfile:
        profile = self._require(key)
        new_name = new_name.strip()
        if not new_name:
            raise SettingsError("A connection needs a name.")
        if any(c.name == new_name and c is not profile for c in self.connections):
            raise SettingsError(f"A connection named '{new_name}' already exists.")
        profile.name = new_name
        return profile

    def remove_connection(self, key: str) -> ConnectionProfile:
        profile = self._require(key)
        self.connections.remove(profile)
        if self.ui.last_connection == profile.keyring_ref:
            self.ui.last_connection = ""
        return profile

    def set_limits(self, key: str, preset: str) -> None:
        if preset not in LIMIT_PRESETS:
            raise SettingsError(f"Unknown limits preset '{preset}' (use one of {', '.join(LIMIT_PRESETS)}).")
        self._require(key).limits = preset

    def _require(self, key: str) -> ConnectionProfile:
        profile = self.connection(key)
        if profile is None:
            raise SettingsError(f"No connection '{key}'.")
        return profile

    # -- requests

    def remember_request(self, key: str | None, method: str, params_text: str, api: int = 2,
                         request_id: str = "") -> None:
        """The last request of a connection (restored on start) and the recently used methods."""
        params_text = redact_text(params_text)  # a webhook pasted into params must not reach the disk
        self.ui.recent_methods = _push_recent(self.ui.recent_methods, method)
        profile = self.connection(key) if key else None
        if profile is not None:
            profile.last_request = LastRequest(method=method, params=params_text, api=api, request_id=request_id)
            profile.recent_methods = _push_recent(profile.recent_methods, method)

    def recent_methods(self, key: str | None = None) -> list[str]:
        """The connection's recent methods first, then the global ones."""
        profile = self.connection(key) if key else None
        own = list(profile.recent_methods) if profile is not None else []
        return own + [m for m in self.ui.recent_methods if m not in own]

    # -- (de)serialisation

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["version"] = CURRENT_VERSION
        return data

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Settings:
        """Lenient: unknown keys are ignored, a field of the wrong type falls back to its default."""
        ui_data = _dict(data.get("ui"))
        ui = UiPrefs(
            window_geometry=_typed(ui_data, "window_geometry", str, ""),
            window_state=_typed(ui_data, "window_state", str, ""),
            splitters={k: v for k, v in _typed(ui_data, "splitters", dict, {}).items() if isinstance(v, str)},
            theme=_choice(ui_data, "theme", THEMES, "system"),
            history_response_cap=max(0, _typed(ui_data, "history_response_cap", int, DEFAULT_HISTORY_CAP)),
            last_connection=_typed(ui_data, "last_connection", str, ""),
            recent_methods=_str_list(ui_data.get("recent_methods"))[:MAX_RECENT_METHODS],
        )
        settings = cls(ui=ui)
        for raw in _list(data.get("connections")):
            profile = _connection_from(raw)
            if profile is None:
                continue
            with contextlib.suppress(SettingsError):  # a duplicate in a hand-edited file is dropped
                settings.add_connection(profile)
        return settings


def _push_recent(items: list[str], method: str) -> list[str]:
    if not method:
        return items
    return [method, *[m for m in items if m != method]][:MAX_RECENT_METHODS]


def _typed(data: dict[str, Any], key: str, kind: type, default: Any) -> Any:
    value = data.get(key, default)
    if kind is int and isinstance(value, bool):
        return default
    return value if isinstance(value, kind) else default


def _choice(data: dict[str, Any], key: str, allowed: tuple[str, ...], default: str) -> str:
    value = data.get(key)
    return value if value in allowed else default


def _dict(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else []


def _str_list(value: Any) -> list[str]:
    return [v for v in value if isinstance(v, str)] if isinstance(value, list) else []


def _connection_from(raw: Any) -> ConnectionProfile | None:
    if not isinstance(raw, dict):
        return None
    name, portal, ref = raw.get("name"), raw.get("portal"), raw.get("keyring_ref")
    user_id = raw.get("user_id")
    if not (isinstance(name, str) and isinstance(portal, str) and isinstance(ref, str) and ref):
        return None
    if isinstance(user_id, str) and user_id.isdigit():
        user_id = int(user_id)
    if not isinstance(user_id, int) or isinstance(user_id, bool):
        return None
    last = _dict(raw.get("last_request"))
    api = last.get("api")
    return ConnectionProfile(
        name=name,
        portal=portal.rstrip("/"),
        user_id=user_id,
        keyring_ref=ref,
        limits=_choice(raw, "limits", LIMIT_PRESETS, "standard"),
        read_only=raw.get("read_only") is True,
        auth=_choice(raw, "auth", ("webhook", "oauth"), "webhook"),
        ca_file=_typed(raw, "ca_file", str, ""),
        last_request=LastRequest(
            method=_typed(last, "method", str, ""),
            params=_typed(last, "params", str, "{}"),
            api=api if api in (2, 3) else 2,
            request_id=_typed(last, "request_id", str, ""),
        ),
        recent_methods=_str_list(raw.get("recent_methods"))[:MAX_RECENT_METHODS],
    )


# ---------------------------------------------------------------- migrations


def _v0_to_v1(data: dict[str, Any]) -> dict[str, Any]:
    # Pre-release files had no version, connections as a name -> profile map and a flat "recent" list.
    connections = data.get("connections")
    if isinstance(connections, dict):
        connections = [{"name": name, **body} for name, body in connections.items() if isinstance(body, dict)]
    return {
        "version": 1,
        "connections": connections if isinstance(connections, list) else [],
        "ui": {**(data.get("ui") or {}), "recent_methods": data.get("recent", [])},
    }


def _v1_to_v2(data: dict[str, Any]) -> dict[str, Any]:
    # v1 kept the last request per connection name in ui.last_requests and had no limits preset;
    # v2 moves it into the connection (so a rename keeps it) and adds "limits".
    ui = dict(data.get("ui") or {})
    last_requests = ui.pop("last_requests", {}) or {}
    connections = []
    for raw in data.get("connections") or []:
        if not isinstance(raw, dict):
            continue
        raw = {"limits": "standard", **raw}
        if isinstance(last_requests, dict) and isinstance(last_requests.get(raw.get("name")), dict):
            raw["last_request"] = last_requests[raw["name"]]
        connections.append(raw)
    return {**data, "version": 2, "connections": connections, "ui": ui}


MIGRATIONS: dict[int, Callable[[dict[str, Any]], dict[str, Any]]] = {0: _v0_to_v1, 1: _v1_to_v2}


def migrate(data: dict[str, Any]) -> dict[str, Any]:
    """Brings a settings dict from its version up to :data:`CURRENT_VERSION`, one step at a time."""
    version = data.get("version", 0)
    if not isinstance(version, int) or isinstance(version, bool) or version < 0:
        raise ValueError(f"bad settings version {version!r}")
    while version < CURRENT_VERSION:
        data = MIGRATIONS[version](data)
        version = data["version"]
    return data


# ---------------------------------------------------------------- store


class SettingsStore:
    """Loads and saves :class:`Settings`. ``notices`` collects messages the UI should show once."""

    def __init__(self, path: Path | None = None) -> None:
        self.path = path if path is not None else paths.config_dir() / FILE_NAME
        self.notices: list[str] = []
        self._lock = threading.Lock()

    def load(self) -> Settings:
        with self._lock:
            return self._load()

    def _load(self) -> Settings:
        if not self.path.exists():
            return Settings()
        import json  # a first start (no file yet) needs no parser before its window paints

        try:
            data = json.loads(self.path.read_text(encoding="utf-8"))
            if not isinstance(data, dict):
                raise ValueError("the top level is not a JSON object")
            version = data.get("version", 0)
            if isinstance(version, int) and version > CURRENT_VERSION:
                backup = self._copy_aside(f"v{version}")
                self.notices.append(
                    f"The settings were written by a newer b24explorer (format {version}); they were read as far "
                    f"as this version understands them, and the original was kept as {backup.name}."
                )
                return Settings.from_dict(data)
            if version != CURRENT_VERSION:
                backup = self._copy_aside(f"v{version}")
                data = migrate(data)
                settings = Settings.from_dict(data)
                self._write(settings)
                self.notices.append(
                    f"The settings were upgraded from format {version} to {CURRENT_VERSION}; "
                    f"the old file was kept as {backup.name}."
                )
                return settings
            return Settings.from_dict(data)
        except (OSError, UnicodeDecodeError, ValueError, KeyError, TypeError, AttributeError) as exc:
            moved = self._move_aside()
            where = f" and was moved to {moved.name}" if moved else ""
            self.notices.append(
                f"The settings file could not be read ({type(exc).__name__}: {_short(exc)}){where}. "
                "Default settings are used; your saved webhooks are still in the keyring."
            )
            return Settings()

    def save(self, settings: Settings) -> None:
        with self._lock:
            self._write(settings)

    async def aload(self) -> Settings:
        import asyncio  # here, not at the top: the app's window paints before asyncio loads

        return await asyncio.to_thread(self.load)

    async def asave(self, settings: Settings) -> None:
        import asyncio

        await asyncio.to_thread(self.save, settings)

    def _write(self, settings: Settings) -> None:
        import json

        self.path.parent.mkdir(parents=True, exist_ok=True)
        text = json.dumps(settings.to_dict(), ensure_ascii=False, indent=2)
        fd, tmp = tempfile.mkstemp(prefix=".settings-", suffix=".tmp", dir=self.path.parent)
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as fh:
                fh.write(text)
                fh.flush()
                os.fsync(fh.fileno())
            with contextlib.suppress(OSError):
                os.chmod(tmp, 0o600)
            os.replace(tmp, self.path)
        except BaseException:
            with contextlib.suppress(OSError):
                os.unlink(tmp)
            raise

    def _stamp(self) -> str:
        return time.strftime("%Y%m%d-%H%M%S")

    def _copy_aside(self, tag: str) -> Path:
        backup = self.path.with_name(f"{self.path.stem}.{tag}.{self._stamp()}.bak")
        shutil.copy2(self.path, backup)
        return backup

    def _move_aside(self) -> Path | None:
        target = self.path.with_name(f"{self.path.stem}.corrupt.{self._stamp()}.json")
        try:
            os.replace(self.path, target)
        except OSError:
            return None
        return target


def _short(exc: BaseException) -> str:
    text = str(exc)
    return text if len(text) <= 120 else text[:117] + "..."
