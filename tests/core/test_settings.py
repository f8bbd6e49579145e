from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from b24explorer.core import settings as st
from b24explorer.core.webhook import Webhook

WEBHOOK = "https://portal.example.com/rest/3/s3cr3tw3bh00k42/"


def _profile(name: str = "Prod", ref: str = "conn-1") -> st.ConnectionProfile:
    return st.ConnectionProfile.from_webhook(name, Webhook.parse(WEBHOOK), ref)


def test_defaults_when_no_file(app_home: Path) -> None:
    store = st.SettingsStore()
    assert store.path == app_home / "config" / "settings.json"
    settings = store.load()
    assert settings.connections == []
    assert settings.ui.history_response_cap == 1024 * 1024
    assert settings.ui.theme == "system"
    assert store.notices == []


def test_round_trip_keeps_everything_but_never_the_secret(app_home: Path) -> None:
    store = st.SettingsStore()
    s = store.load()
    s.add_connection(_profile())
    s.set_limits("Prod", "enterprise")
    s.ui.window_geometry = "AdnQywADAAAAAA=="
    s.ui.splitters["main"] = "AAAA/wAAAAEAAAAC"
    s.ui.theme = "dark"
    s.remember_request("conn-1", "crm.deal.list", '{"select": ["ID"]}', api=2, request_id="r-1")
    s.remember_request("conn-1", "user.get", "{}", api=2)
    store.save(s)

    text = store.path.read_text()
    assert "s3cr3tw3bh00k42" not in text
    assert "/rest/" not in text
    assert oct(os.stat(store.path).st_mode & 0o777) == "0o600"

    again = st.SettingsStore().load()
    prod = again.connection("conn-1")
    assert prod is not None
    assert (prod.name, prod.portal, prod.host, prod.user_id, prod.limits) == (
        "Prod", "https://portal.example.com", "portal.example.com", 3, "enterprise")
    assert prod.last_request == st.LastRequest("user.get", "{}", 2, "")
    assert prod.recent_methods == ["user.get", "crm.deal.list"]
    assert again.ui.window_geometry == "AdnQywADAAAAAA=="
    assert again.ui.splitters == {"main": "AAAA/wAAAAEAAAAC"}
    assert again.ui.theme == "dark"
    assert again.version == st.CURRENT_VERSION
    assert json.loads(text)["version"] == st.CURRENT_VERSION


def test_a_webhook_pasted_into_params_is_masked_before_saving(app_home: Path) -> None:
    store = st.SettingsStore()
    s = store.load()
    s.add_connection(_profile())
    s.remember_request("Prod", "event.bind", json.dumps({"handler": WEBHOOK + "crm.deal.add"}))
    store.save(s)
    assert "s3cr3tw3bh00k42" not in store.path.read_text()


def test_connection_rules() -> None:
    s = st.Settings()
    s.add_connection(_profile("A", "conn-a"))
    with pytest.raises(st.SettingsError, match="already exists"):
        s.add_connection(_profile("A", "conn-b"))
    with pytest.raises(st.SettingsError, match="keyring reference"):
        s.add_connection(_profile("B", "conn-a"))
    with pytest.raises(st.SettingsError, match="needs a name"):
        s.add_connection(_profile("  ", "conn-c"))
    with pytest.raises(st.SettingsError, match="webhook itself belongs in the keyring"):
        s.add_connection(st.ConnectionProfile("W", WEBHOOK, 3, "conn-w"))
    s.add_connection(_profile("B", "conn-b"))
    with pytest.raises(st.SettingsError, match="already exists"):
        s.rename_connection("B", "A")
    s.remember_request("conn-b", "profile", "{}")
    renamed = s.rename_connection("B", "Staging")
    assert renamed.keyring_ref == "conn-b"
    assert renamed.last_request.method == "profile"  # keyed by reference, so a rename keeps it
    with pytest.raises(st.SettingsError, match="Unknown limits preset"):
        s.set_limits("A", "turbo")
    s.ui.last_connection = "conn-a"
    assert s.remove_connection("A").name == "A"
    assert s.ui.last_connection == ""
    with pytest.raises(st.SettingsError, match="No connection"):
        s.remove_connection("A")


def test_recent_methods_are_capped_and_connection_first() -> None:
    s = st.Settings()
    s.add_connection(_profile("A", "conn-a"))
    for i in range(30):
        s.remember_request(None, f"m.{i}", "{}")
    s.remember_request("conn-a", "crm.deal.get", "{}")
    s.remember_request(None, "m.3", "{}")
    assert len(s.ui.recent_methods) == st.MAX_RECENT_METHODS
    assert s.ui.recent_methods[:2] == ["m.3", "crm.deal.get"]
    assert s.recent_methods("conn-a")[:3] == ["crm.deal.get", "m.3", "m.29"]
    assert s.recent_methods()[0] == "m.3"


def test_migrates_an_unversioned_file_and_keeps_a_backup(app_home: Path) -> None:
    path = app_home / "config" / "settings.json"
    path.parent.mkdir(parents=True)
    old = {
        "connections": {"Prod": {"portal": "https://portal.example.com", "user_id": "3", "keyring_ref": "conn-9"}},
        "recent": ["crm.deal.list"],
        "ui": {"theme": "light"},
    }
    path.write_text(json.dumps(old))
    store = st.SettingsStore()
    s = store.load()
    assert [c.name for c in s.connections] == ["Prod"]
    assert s.connections[0].user_id == 3
    assert s.connections[0].limits == "standard"
    assert s.ui.recent_methods == ["crm.deal.list"]
    assert s.ui.theme == "light"
    assert any("upgraded from format 0" in n for n in store.notices)
    backups = list(path.parent.glob("settings.v0.*.bak"))
    assert len(backups) == 1
    assert json.loads(backups[0].read_text()) == old
    assert json.loads(path.read_text())["version"] == st.CURRENT_VERSION  # written back migrated


def test_migrates_v1_last_requests_into_connections(app_home: Path) -> None:
    path = app_home / "config" / "settings.json"
    path.parent.mkdir(parents=True)
    path.write_text(json.dumps({
        "version": 1,
        "connections": [{"name": "Prod", "portal": "https://p.example.com", "user_id": 1, "keyring_ref": "c-1"}],
        "ui": {"last_requests": {"Prod": {"method": "crm.deal.get", "params": '{"id": 1}', "api": 3}}},
    }))
    s = st.SettingsStore().load()
    assert s.connections[0].last_request == st.LastRequest("crm.deal.get", '{"id": 1}', 3, "")
    assert list(path.parent.glob("settings.v1.*.bak"))


@pytest.mark.parametrize(
    "content",
    [b"{not json", b"[1, 2, 3]", b"\xff\xfe\x00garbage", b'{"version": "two"}', b""],
    ids=["bad-json", "not-an-object", "not-utf8", "bad-version", "empty"],
)
def test_a_corrupt_file_is_moved_aside_and_defaults_used(app_home: Path, content: bytes) -> None:
    path = app_home / "config" / "settings.json"
    path.parent.mkdir(parents=True)
    path.write_bytes(content)
    store = st.SettingsStore()
    s = store.load()
    assert s.connections == []
    assert len(store.notices) == 1
    assert "could not be read" in store.notices[0]
    assert "still in the keyring" in store.notices[0]
    moved = list(path.parent.glob("settings.corrupt.*.json"))
    assert len(moved) == 1
    assert moved[0].read_bytes() == content  # nothing lost: the user can inspect or repair it
    assert not path.exists()
    store.save(s)
    assert st.SettingsStore().load().version == st.CURRENT_VERSION


def test_wrong_field_types_fall_back_per_field(app_home: Path) -> None:
    path = app_home / "config" / "settings.json"
    path.parent.mkdir(parents=True)
    path.write_text(json.dumps({
        "version": st.CURRENT_VERSION,
        "connections": [
            {"name": "Good", "portal": "https://g.example.com", "user_id": 1, "keyring_ref": "c-1",
             "limits": "warp", "last_request": {"api": 9}},
            {"name": "NoRef", "portal": "https://n.example.com", "user_id": 1},
            "nonsense",
            {"name": "Good", "portal": "https://dup.example.com", "user_id": 2, "keyring_ref": "c-2"},
        ],
        "ui": {"theme": 5, "history_response_cap": "big", "splitters": {"a": "x", "b": 3}},
    }))
    s = st.SettingsStore().load()
    assert [c.name for c in s.connections] == ["Good"]
    assert s.connections[0].limits == "standard"
    assert s.connections[0].last_request.api == 2
    assert s.ui.theme == "system"
    assert s.ui.history_response_cap == st.DEFAULT_HISTORY_CAP
    assert s.ui.splitters == {"a": "x"}


def test_a_newer_format_is_read_leniently_and_backed_up(app_home: Path) -> None:
    path = app_home / "config" / "settings.json"
    path.parent.mkdir(parents=True)
    path.write_text(json.dumps({"version": 99, "ui": {"theme": "dark"}, "future": True}))
    store = st.SettingsStore()
    assert store.load().ui.theme == "dark"
    assert "newer b24explorer" in store.notices[0]
    assert list(path.parent.glob("settings.v99.*.bak"))


def test_atomic_write_leaves_old_file_when_serialisation_fails(app_home: Path) -> None:
    store = st.SettingsStore()
    s = store.load()
    s.add_connection(_profile())
    store.save(s)
    before = store.path.read_text()
    s.ui.splitters["bad"] = object()  # type: ignore[assignment]
    with pytest.raises(TypeError):
        store.save(s)
    assert store.path.read_text() == before
    assert [p.name for p in store.path.parent.iterdir()] == ["settings.json"]  # no temp file left


async def test_async_load_and_save(app_home: Path) -> None:
    store = st.SettingsStore()
    s = await store.aload()
    s.add_connection(_profile())
    await store.asave(s)
    assert (await st.SettingsStore().aload()).connection("Prod") is not None
