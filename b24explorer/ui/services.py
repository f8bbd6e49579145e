"""What the window needs from the rest of the app, in one object: connections (settings + keyring + this-run
webhooks), one B24Client per connection, the method list, templates and the saved window state.

Built by ``b24explorer.app``; tests build it directly with an in-memory settings store.
"""

from __future__ import annotations

import copy
import sys
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol

from b24explorer.core.logbus import LogBus
from b24explorer.core.vault import Vault, VaultError, new_reference
from b24explorer.core.webhook import Webhook
from b24explorer.ui.connections import ConnectionInfo
from b24explorer.ui.method_picker import MethodEntry

if TYPE_CHECKING:
    from b24explorer.core.client import B24Client  # imported where used: it pulls in httpx


@dataclass(frozen=True)
class SavedConnection:
    """A connection as settings keep it: no secret, only a reference to its keyring entry."""

    name: str
    portal: str  # scheme://host[:port]
    user_id: int
    keyring_ref: str
    limits: str = "standard"  # the client's rate-limit preset: standard | enterprise | unlimited

    @property
    def host(self) -> str:
        return self.portal.split("://", 1)[-1]


LIMIT_PRESETS = ("standard", "enterprise", "unlimited")


class SettingsStore(Protocol):
    """The slice of the settings the window uses."""

    def load_connections(self) -> list[SavedConnection]: ...
    def save_connections(self, connections: list[SavedConnection]) -> None: ...
    def load_ui_state(self) -> dict[str, Any]: ...
    def save_ui_state(self, state: dict[str, Any]) -> None: ...


class MemorySettings:
    """Settings held in memory only (tests, and the fallback when the settings file cannot be used)."""

    def __init__(self) -> None:
        self.connections: list[SavedConnection] = []
        self.ui_state: dict[str, Any] = {}

    def load_connections(self) -> list[SavedConnection]:
        return list(self.connections)

    def save_connections(self, connections: list[SavedConnection]) -> None:
        self.connections = list(connections)

    def load_ui_state(self) -> dict[str, Any]:
        return copy.deepcopy(self.ui_state)

    def save_ui_state(self, state: dict[str, Any]) -> None:
        self.ui_state = copy.deepcopy(state)


class FileSettings:
    """The window's slice of ``core.settings``: connection profiles and UI prefs in settings.json.

    Loading is synchronous (a small file, read before the window shows); writes go to one worker thread, in
    order, so the UI thread never waits on the disk.
    """

    def __init__(self, store: Any | None = None) -> None:
        from b24explorer.core import settings as core_settings

        self._core = core_settings
        self.store = store if store is not None else core_settings.SettingsStore()
        self.settings = self.store.load()
        self.notices: list[str] = list(self.store.notices)
        self._writer: Any = None

    def _save(self) -> None:
        snapshot = self._core.Settings.from_dict(copy.deepcopy(self.settings.to_dict()))
        asyncio = sys.modules.get("asyncio")  # not imported yet at the start: then no loop runs either
        try:
            loop = asyncio.get_running_loop() if asyncio is not None else None
        except RuntimeError:
            loop = None
        if loop is None:
            self.store.save(snapshot)
            return
        if self._writer is None:
            from concurrent.futures import ThreadPoolExecutor

            self._writer = ThreadPoolExecutor(max_workers=1, thread_name_prefix="b24x-settings")
        loop.run_in_executor(self._writer, self.store.save, snapshot)

    def flush(self) -> None:
        """Wait for pending writes (at exit)."""
        if self._writer is not None:
            self._writer.shutdown(wait=True)
            self._writer = None

    def load_connections(self) -> list[SavedConnection]:
        return [SavedConnection(c.name, c.portal, c.user_id, c.keyring_ref, c.limits)
                for c in self.settings.connections]

    def save_connections(self, connections: list[SavedConnection]) -> None:
        old = {c.keyring_ref: c for c in self.settings.connections}
        profiles = []
        for conn in connections:
            profile = old.get(conn.keyring_ref) or self._core.ConnectionProfile(
                name=conn.name, portal=conn.portal, user_id=conn.user_id, keyring_ref=conn.keyring_ref)
            profile.name, profile.portal, profile.user_id = conn.name, conn.portal, conn.user_id
            profile.limits = conn.limits
            profiles.append(profile)
        self.settings.connections = profiles
        self._save()

    def load_ui_state(self) -> dict[str, Any]:
        ui = self.settings.ui
        last = self.settings.connection(ui.last_connection) if ui.last_connection else None
        return {
            "geometry": ui.window_geometry,
            "window_state": ui.window_state,
            "main_splitter": ui.splitters.get("main", ""),
            "centre_splitter": ui.splitters.get("centre", ""),
            "connection": last.name if last else "",
            "recent_methods": list(ui.recent_methods),
            "last_request": {c.name: {"method": c.last_request.method, "params": c.last_request.params,
                                      "api": c.last_request.api, "request_id": c.last_request.request_id}
                             for c in self.settings.connections if c.last_request.method},
        }

    def save_ui_state(self, state: dict[str, Any]) -> None:
        ui = self.settings.ui
        ui.window_geometry = str(state.get("geometry") or "")
        ui.window_state = str(state.get("window_state") or "")
        ui.splitters = {"main": str(state.get("main_splitter") or ""),
                        "centre": str(state.get("centre_splitter") or "")}
        current = self.settings.connection(str(state.get("connection") or ""))
        ui.last_connection = current.keyring_ref if current else ""
        ui.recent_methods = [str(m) for m in state.get("recent_methods") or []][:20]
        for name, request in (state.get("last_request") or {}).items():
            profile = self.settings.connection(name)
            if profile is not None and request.get("method"):
                self.settings.remember_request(profile.keyring_ref, str(request["method"]),
                                               str(request.get("params") or "{}"), int(request.get("api") or 2),
                                               str(request.get("request_id") or ""))
        ui.recent_methods = [str(m) for m in state.get("recent_methods") or []][:20]
        self._save()


class ConnectionExists(ValueError):
    pass


class ConnectionRegistry:
    """Saved connections (settings + keyring) and volatile ones (sandbox, "this run only")."""

    def __init__(self, settings: SettingsStore, vault: Vault) -> None:
        self.settings = settings
        self.vault = vault
        self._saved: dict[str, SavedConnection] = {c.name: c for c in settings.load_connections()}
        self._volatile: dict[str, tuple[ConnectionInfo, Webhook]] = {}
        self._known: dict[str, Webhook] = {}  # webhooks read this run, for masking and clients
        self.changed_callbacks: list[Callable[[], None]] = []

    # --- reading ----------------------------------------------------------------------------------
    def names(self) -> list[str]:
        return [info.name for info in self.infos()]

    def infos(self) -> list[ConnectionInfo]:
        out = [info for info, _ in self._volatile.values() if info.kind == "sandbox"]
        for saved in self._saved.values():
            kind = "session" if self.vault.is_session_only(saved.keyring_ref) else "saved"
            known = self._known.get(saved.name)
            out.append(ConnectionInfo(saved.name, saved.host, saved.user_id, kind,
                                      known.masked if known else f"{saved.host} · user {saved.user_id}",
                                      saved.limits))
        out.extend(info for info, _ in self._volatile.values() if info.kind != "sandbox")
        return out

    def info(self, name: str) -> ConnectionInfo | None:
        return next((i for i in self.infos() if i.name == name), None)

    def secrets(self) -> tuple[str, ...]:
        hooks = [hook for _, hook in self._volatile.values()] + list(self._known.values())
        return tuple(hook.secret for hook in hooks)

    async def webhook(self, name: str) -> Webhook:
        if name in self._volatile:
            return self._volatile[name][1]
        saved = self._saved.get(name)
        if saved is None:
            raise KeyError(name)
        hook = Webhook.parse(await self.vault.read(saved.keyring_ref))
        self._known[name] = hook
        return hook

    # --- changing ---------------------------------------------------------------------------------
    def _check_free(self, name: str, ignore: str | None = None) -> None:
        if name != ignore and (name in self._saved or name in self._volatile):
            raise ConnectionExists(f"A connection named “{name}” already exists.")

    def add_volatile(self, name: str, webhook: Webhook, kind: str = "session",
                     limits: str = "standard") -> ConnectionInfo:
        """A connection held in memory only: the sandbox, or a webhook the keyring could not take."""
        self._volatile.pop(name, None)
        self._check_free(name)
        info = ConnectionInfo(name, webhook.host, webhook.user_id, kind, webhook.masked, limits)
        self._volatile[name] = (info, webhook)
        self._notify()
        return info

    async def add(self, name: str, webhook: Webhook, limits: str = "standard") -> SavedConnection:
        """Save in the keyring, then in settings. Raises VaultError (nothing saved) when the keyring fails."""
        self._check_free(name)
        saved = SavedConnection(name, webhook.portal, webhook.user_id, new_reference(), limits)
        await self.vault.save(saved.keyring_ref, webhook.url)
        self._saved[name] = saved
        self._known[name] = webhook
        self._persist()
        return saved

    def add_for_this_run(self, name: str, webhook: Webhook, limits: str = "standard") -> SavedConnection:
        """The keyring failed and the user chose "use for this run only": listed, never written anywhere."""
        self._check_free(name)
        ref = new_reference()
        self.vault.keep_for_this_run(ref, webhook.url)
        self._volatile[name] = (ConnectionInfo(name, webhook.host, webhook.user_id, "session", webhook.masked,
                                               limits), webhook)
        self._notify()
        return SavedConnection(name, webhook.portal, webhook.user_id, ref, limits)

    async def update_webhook(self, name: str, webhook: Webhook) -> None:
        if name in self._volatile:
            info, _ = self._volatile[name]
            self._volatile[name] = (ConnectionInfo(name, webhook.host, webhook.user_id, info.kind,
                                                   webhook.masked, info.limits), webhook)
            self._notify()
            return
        saved = self._saved[name]
        await self.vault.save(saved.keyring_ref, webhook.url)
        self._saved[name] = SavedConnection(name, webhook.portal, webhook.user_id, saved.keyring_ref, saved.limits)
        self._known[name] = webhook
        self._persist()

    def rename(self, old: str, new: str) -> None:
        new = new.strip()
        if not new:
            raise ValueError("A connection needs a name.")
        if old == new:
            return
        self._check_free(new)
        if old in self._volatile:
            info, hook = self._volatile.pop(old)
            self._volatile[new] = (ConnectionInfo(new, info.host, info.user_id, info.kind, info.masked,
                                                  info.limits), hook)
            self._notify()
            return
        saved = self._saved.pop(old)
        # The keyring reference stays: it is unrelated to the name, so a rename never touches the keyring.
        self._saved = {**self._saved, new: SavedConnection(new, saved.portal, saved.user_id, saved.keyring_ref,
                                                           saved.limits)}
        if old in self._known:
            self._known[new] = self._known.pop(old)
        self._persist()

    def set_limits(self, name: str, limits: str) -> None:
        if limits not in LIMIT_PRESETS:
            raise ValueError(f"unknown limits preset {limits!r}")
        if name in self._volatile:
            info, hook = self._volatile[name]
            self._volatile[name] = (ConnectionInfo(info.name, info.host, info.user_id, info.kind, info.masked,
                                                   limits), hook)
            self._notify()
            return
        saved = self._saved[name]
        self._saved[name] = SavedConnection(saved.name, saved.portal, saved.user_id, saved.keyring_ref, limits)
        self._persist()

    async def delete(self, name: str) -> None:
        if name in self._volatile:
            del self._volatile[name]
            self._notify()
            return
        saved = self._saved.pop(name)
        self._known.pop(name, None)
        self._persist()
        await self.vault.delete(saved.keyring_ref)

    def _persist(self) -> None:
        self.settings.save_connections(list(self._saved.values()))
        self._notify()

    def _notify(self) -> None:
        for callback in list(self.changed_callbacks):
            callback()


class Services:
    """The window's services (see ``WindowServices`` in main_window)."""

    def __init__(
        self,
        *,
        log_bus: LogBus,
        settings: SettingsStore,
        vault: Vault,
        client_options: dict[str, Any] | None = None,
    ) -> None:
        self.log_bus = log_bus
        self.settings = settings
        self.vault = vault
        self.connections = ConnectionRegistry(settings, vault)
        self.client_options = dict(client_options or {})
        self._clients: dict[str, tuple[Webhook, B24Client]] = {}
        self._methods: dict[str, list[MethodEntry]] = {}
        self._catalogs: dict[str, Any] = {}

    # --- connections ------------------------------------------------------------------------------
    def connection_infos(self) -> list[ConnectionInfo]:
        return self.connections.infos()

    def known_secrets(self) -> tuple[str, ...]:
        return self.connections.secrets()

    async def client_for(self, connection: str) -> B24Client:
        hook = await self.connections.webhook(connection)
        cached = self._clients.get(connection)
        info = self.connections.info(connection)
        wanted = info.limits if info is not None else "standard"
        if cached is not None and cached[0] == hook and not cached[1].closed \
                and getattr(cached[1], "limits_preset", wanted) == wanted:
            return cached[1]
        if cached is not None:
            await cached[1].aclose()
        options = dict(self.client_options)
        info = self.connections.info(connection)
        if "limits" not in options and info is not None:
            from b24explorer.core.limits import LimitsConfig

            options["limits"] = LimitsConfig.from_plan(info.limits)
        from b24explorer.core.client import B24Client

        client = B24Client(hook, log=self.log_bus, **options)
        client.limits_preset = wanted  # type: ignore[attr-defined]
        self._clients[connection] = (hook, client)
        return client

    def renamed(self, old: str, new: str) -> None:
        """Keep the client and method list of a renamed connection (same webhook, new name)."""
        for cache in (self._clients, self._methods, self._catalogs):
            if old in cache:
                cache[new] = cache.pop(old)  # type: ignore[index]

    async def forget_client(self, connection: str) -> None:
        cached = self._clients.pop(connection, None)
        self._methods.pop(connection, None)
        self._catalogs.pop(connection, None)
        if cached is not None:
            await cached[1].aclose()

    async def test_connection(self, webhook: Webhook) -> Any:
        """server.time, profile and scope through a short-lived client (the webhook may not be saved yet)."""
        from b24explorer.ui.connection_dialogs import ConnectionReport

        report = ConnectionReport()
        options = {k: v for k, v in self.client_options.items() if k != "v3_methods"}
        from b24explorer.core.client import B24Client

        async with B24Client(webhook, log=self.log_bus, **options) as client:
            for method in ("server.time", "profile", "scope"):
                try:
                    res = await client.call(method, {})
                except Exception as exc:
                    report.problems.append(f"{method}: {getattr(exc, 'code', type(exc).__name__)} — "
                                           f"{getattr(exc, 'message', exc)}")
                    if method == "server.time":
                        break
                    continue
                if not res.is_success:
                    report.problems.append(f"{method}: {'; '.join(res.error_messages)}")
                elif method == "server.time":
                    report.server_time = str(res.result)
                elif method == "profile":
                    report.user = dict(res.result or {})
                else:
                    report.scopes = [str(s) for s in res.result or []]
        return report

    # --- methods ----------------------------------------------------------------------------------
    async def methods_for(self, connection: str) -> list[MethodEntry]:
        if connection in self._methods:
            return self._methods[connection]
        client = await self.client_for(connection)
        entries = await self._catalog_entries(connection, client)
        self._methods[connection] = entries
        return entries

    async def _catalog_entries(self, connection: str, client: B24Client) -> list[MethodEntry]:
        from b24explorer.core import catalog as core_catalog

        catalog = await core_catalog.load_for(client)
        self._catalogs[connection] = catalog
        for notice in getattr(catalog, "notices", []):
            self.log_bus.notice("METHOD_LIST_PARTIAL", f"Method list: {notice}")
        return [MethodEntry(name=e.name, scope=e.scope, v3=e.in_v3, v2=e.in_v2, docs_url=e.doc_url,
                            docs_url_v3=e.doc_url_v3, title=e.description, available=e.available)
                for e in catalog]

    def template_for(self, method: str, api: int, connection: str = "") -> str:
        """The params template: from the connection's catalog (hints, or the portal's v3 schema)."""
        catalogs = [self._catalogs[connection]] if connection in self._catalogs else []
        catalogs += [c for name, c in self._catalogs.items() if name != connection]
        for catalog in catalogs:
            entry = catalog.get(method)
            if entry is not None:
                return entry.template_text(api)
        from b24explorer.core import hints

        return hints.template_text(method, api)

    # --- window state -----------------------------------------------------------------------------
    def load_ui_state(self) -> dict[str, Any]:
        return self.settings.load_ui_state()

    def save_ui_state(self, state: dict[str, Any]) -> None:
        self.settings.save_ui_state(state)

    async def aclose(self) -> None:
        import asyncio

        clients = [client for _, client in self._clients.values()]
        self._clients.clear()
        await asyncio.gather(*(c.aclose() for c in clients), return_exceptions=True)


__all__ = ["ConnectionExists", "ConnectionRegistry", "MemorySettings", "SavedConnection", "Services",
           "SettingsStore", "VaultError"]
