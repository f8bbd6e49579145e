"""History on a real SQLite file: records, search, saved requests, secrets scrubbed, broken files survived."""

from __future__ import annotations

import asyncio
import contextlib
import json
import sqlite3
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from b24explorer.core import history as hi
from b24explorer.sandbox import Sandbox

SECRET = "zq9x8c7v6b5n4m3l"
WEBHOOK = f"https://portal.example.com/rest/1/{SECRET}/"


@pytest.fixture
def store(app_home: Path) -> Iterator[hi.HistoryStore]:
    s = hi.HistoryStore(busy_timeout=0.3)
    yield s
    s.close()


def _all_bytes(directory: Path) -> bytes:
    return b"".join(p.read_bytes() for p in directory.rglob("*") if p.is_file())


def test_record_and_get_round_trip(store: hi.HistoryStore, app_home: Path) -> None:
    assert store.path == app_home / "data" / "history.sqlite3"
    body = json.dumps({"result": {"ID": "5", "TITLE": "Deal"}, "time": {"duration": 0.01}}).encode()
    entry_id = store.record(
        connection="Prod", method="crm.deal.get", api=2, params={"id": 5}, request_id="req-1",
        status=200, duration=0.123, error_code=None, response=body, timestamp=1_700_000_000.5,
    )
    entry = store.get(entry_id)
    assert entry is not None
    assert (entry.connection, entry.method, entry.api, entry.request_id) == ("Prod", "crm.deal.get", 2, "req-1")
    assert entry.params_value() == {"id": 5}
    assert (entry.status, entry.duration, entry.size, entry.error_code) == (200, 0.123, len(body), None)
    assert entry.response == body
    assert not entry.response_truncated
    assert not entry.is_error
    assert entry.when.year == 2023
    assert store.get(entry_id + 100) is None
    with sqlite3.connect(store.path) as raw:
        assert raw.execute("PRAGMA user_version").fetchone()[0] == hi.SCHEMA_VERSION
        assert raw.execute("PRAGMA journal_mode").fetchone()[0] == "wal"


def test_response_cap_truncates_but_keeps_the_real_size(app_home: Path) -> None:
    store = hi.HistoryStore(response_cap=1000)
    big = b"[" + b"1," * 5000 + b"1]"
    entry = store.get(store.record(connection="c", method="m", response=big))
    assert entry is not None
    assert entry.size == len(big)
    assert entry.response == big[:1000]
    assert entry.response_truncated
    store.close()


def test_history_survives_a_restart(app_home: Path) -> None:
    first = hi.HistoryStore()
    first.record(connection="Prod", method="profile")
    first.save_request("Prod", "me", "profile")
    first.close()
    second = hi.HistoryStore()
    assert [e.method for e in second.search()] == ["profile"]
    assert list(second.saved_requests()) == ["Prod"]
    second.close()


def test_no_webhook_secret_reaches_the_database(store: hi.HistoryStore, app_home: Path) -> None:
    store.record(
        connection="Prod", method="event.bind",
        params={"handler": WEBHOOK + "crm.deal.add", "auth": "tok-123456", "nested": {"deep": {"x": SECRET}}},
        response=json.dumps({"error": "X", "error_description": f"bad url {WEBHOOK}profile.json"}).encode(),
        error_code="X", status=400, secrets=[SECRET],
    )
    store.record(connection="Prod", method="batch",
                 params={"cmd": {"a": f"crm.deal.list?auth={SECRET}&filter[ID]=1"}}, secrets=[SECRET], kind="batch")
    store.record(connection="Prod", method="x", params=f"not json {WEBHOOK}")
    store.save_request("Prod", "hook", "event.bind", {"handler": WEBHOOK}, secrets=[SECRET])
    entries = list(store.iter_all())
    assert len(entries) == 3
    assert json.loads(entries[0].params)["auth"] == "***REDACTED***"
    assert "portal.example.com/rest/1/" in entries[0].params  # still readable, only the secret is masked
    assert all(SECRET not in e.params and SECRET.encode() not in (e.response or b"") for e in entries)
    store.close()
    assert SECRET.encode() not in _all_bytes(app_home)
    assert b"tok-123456" not in _all_bytes(app_home)


def test_search_delete_clear(store: hi.HistoryStore) -> None:
    store.record(connection="A", method="crm.deal.list", params={"filter": {"STAGE_ID": "WON"}}, status=200)
    store.record(connection="A", method="crm.deal.get", params={"id": 7}, status=400, error_code="NOT_FOUND")
    store.record(connection="B", method="user.get", params={"FILTER": {"NAME": "100%_done"}}, status=200)
    store.record(connection="B", method="tasks.task.list", api=3, error_code="QUERY_LIMIT_EXCEEDED", status=503)

    assert [e.method for e in store.search("deal")] == ["crm.deal.get", "crm.deal.list"]
    assert [e.method for e in store.search("won")] == ["crm.deal.list"]  # params text, case-insensitive
    assert [e.method for e in store.search("not_found")] == ["crm.deal.get"]  # error code
    assert [e.method for e in store.search("100%_")] == ["user.get"]  # LIKE wildcards taken literally
    assert store.search("%") == [store.search(connection="B")[1]]
    assert [e.method for e in store.search(connection="B")] == ["tasks.task.list", "user.get"]
    assert {e.method for e in store.search(errors_only=True)} == {"crm.deal.get", "tasks.task.list"}
    assert all(e.response is None for e in store.search())  # listings never load bodies
    assert len(store.search(limit=2)) == 2
    assert [e.method for e in store.search(limit=2, offset=2)] == ["crm.deal.get", "crm.deal.list"]

    doomed = store.search("user.get")[0]
    assert store.delete(doomed.id) is True
    assert store.delete(doomed.id) is False
    assert store.count() == 3
    assert store.clear("A") == 2
    assert store.count() == 1
    assert store.clear() == 1
    assert store.count() == 0


def test_saved_requests_grouped_per_connection(store: hi.HistoryStore) -> None:
    a1 = store.save_request("A", "won deals", "crm.deal.list", {"filter": {"STAGE_ID": "WON"}})
    store.save_request("A", "Me", "profile")
    store.save_request("B", "tasks", "tasks.task.list", {"select": ["id"]}, api=3)
    again = store.save_request("A", "won deals", "crm.deal.list", {"filter": {"STAGE_ID": "LOSE"}})
    assert again == a1  # same connection and name: overwritten, not duplicated

    groups = store.saved_requests()
    assert list(groups) == ["A", "B"]
    assert [s.name for s in groups["A"]] == ["Me", "won deals"]
    assert json.loads(groups["A"][1].params) == {"filter": {"STAGE_ID": "LOSE"}}
    assert groups["B"][0].api == 3
    assert list(store.saved_requests("B")) == ["B"]

    with pytest.raises(ValueError, match="already exists"):
        store.rename_saved(a1, "Me")
    store.rename_saved(a1, "lost deals")
    with pytest.raises(ValueError, match="needs a name"):
        store.save_request("A", " ", "profile")
    assert store.delete_saved(a1)
    assert [s.name for s in store.saved_requests()["A"]] == ["Me"]

    store.record(connection="A", connection_name="Portal A", method="profile")
    [entry] = store.search(connection="A")
    assert (entry.connection, entry.connection_name) == ("A", "Portal A")  # the id, and the name when sent


# Schema 2 as b24explorer wrote it before rows referred to the connection's id (rows named their connection).
SCHEMA_2 = """
CREATE TABLE requests (
    id INTEGER PRIMARY KEY AUTOINCREMENT, ts REAL NOT NULL, connection TEXT NOT NULL,
    kind TEXT NOT NULL DEFAULT 'call', method TEXT NOT NULL, api INTEGER NOT NULL DEFAULT 2,
    params TEXT NOT NULL DEFAULT '{}', request_id TEXT NOT NULL DEFAULT '', status INTEGER, duration REAL,
    size INTEGER, error_code TEXT, response BLOB, response_truncated INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX requests_by_connection ON requests(connection, id);
CREATE INDEX requests_by_method ON requests(method);
CREATE TABLE saved_requests (
    id INTEGER PRIMARY KEY AUTOINCREMENT, connection TEXT NOT NULL, name TEXT NOT NULL, method TEXT NOT NULL,
    api INTEGER NOT NULL DEFAULT 2, params TEXT NOT NULL DEFAULT '{}', created REAL NOT NULL, updated REAL NOT NULL,
    kind TEXT NOT NULL DEFAULT '', UNIQUE(connection, name)
);
PRAGMA user_version = 2;
"""


def test_a_file_of_schema_2_opens_and_its_rows_follow_the_connection_id(tmp_path: Path) -> None:
    path = tmp_path / "history.sqlite3"
    with contextlib.closing(sqlite3.connect(path)) as old:
        old.executescript(SCHEMA_2)
        old.execute("INSERT INTO requests (ts, connection, method, status) VALUES (1, 'Prod', 'profile', 200)")
        old.execute("INSERT INTO requests (ts, connection, method, status) VALUES (2, 'Gone', 'scope', 200)")
        old.execute("INSERT INTO saved_requests (connection, name, method, params, created, updated, kind)"
                    " VALUES ('Prod', 'Me', 'profile', '{}', 1, 1, 'call')")
        old.commit()

    store = hi.HistoryStore(path)
    assert store.open() == []  # migrated in place, nothing moved aside
    assert [(e.connection, e.connection_name) for e in store.search()] == [("Gone", "Gone"), ("Prod", "Prod")]
    assert store.link_connections({"Prod": "conn-1"}) == 2  # the request and the saved request
    assert store.count("conn-1") == 1
    [saved] = store.saved_requests()["conn-1"]
    assert (saved.name, saved.kind, saved.connection_name) == ("Me", "call", "Prod")
    assert store.link_connections({"Prod": "conn-1"}) == 0  # once linked, rows stay with the id
    with contextlib.closing(sqlite3.connect(path)) as check:
        assert check.execute("PRAGMA user_version").fetchone()[0] == hi.SCHEMA_VERSION == 3
    store.close()


async def test_async_writes_run_on_one_worker_thread(store: hi.HistoryStore) -> None:
    caller = threading.get_ident()
    writers: set[int] = set()
    original = store.record

    def spy(**fields: object) -> int:
        writers.add(threading.get_ident())
        return original(**fields)

    store.record = spy  # type: ignore[method-assign]
    ids = await asyncio.gather(*(store.arecord(connection="A", method=f"m.{i}") for i in range(40)))
    assert len(set(ids)) == 40
    assert len(writers) == 1
    assert caller not in writers
    assert len(await store.asearch("m.", limit=100)) == 40
    entry = await store.aget(ids[0])
    assert entry is not None
    assert entry.method == "m.0"
    saved = await store.asave_request("A", "n", "profile")
    assert (await store.asaved_requests())["A"][0].id == saved
    assert await store.adelete(ids[0])
    assert await store.aclear() == 39


def _corrupt_store(path: Path) -> bytes:
    good = hi.HistoryStore(path)
    for i in range(200):
        good.record(connection="A", method=f"m.{i}", params={"pad": "x" * 200})
    good.close()
    data = bytearray(path.read_bytes())
    data[4096:12288] = b"\xde\xad\xbe\xef" * 2048  # trample the pages after the header
    path.write_bytes(bytes(data))
    return bytes(data)


@pytest.mark.parametrize("damage", ["garbage", "trampled-pages", "newer-schema"])
def test_a_broken_database_is_moved_aside_and_a_fresh_one_used(tmp_path: Path, damage: str) -> None:
    path = tmp_path / "history.sqlite3"
    if damage == "garbage":
        path.write_bytes(b"this is not a database at all" * 100)
        original = path.read_bytes()
    elif damage == "trampled-pages":
        original = _corrupt_store(path)
    else:
        with sqlite3.connect(path) as raw:
            raw.execute("PRAGMA user_version = 99")
        original = path.read_bytes()

    store = hi.HistoryStore(path)
    assert len(store.open()) == 1  # the notice is there before the first write
    entry_id = store.record(connection="A", method="profile")  # no crash: a fresh database takes it
    assert store.get(entry_id) is not None
    assert store.count() == 1
    assert len(store.notices) == 1
    assert "new, empty history" in store.notices[0]
    assert "newer b24explorer" in store.notices[0] if damage == "newer-schema" else "damaged" in store.notices[0]
    moved = list(tmp_path.glob("history.broken-*.sqlite3"))
    assert len(moved) == 1
    assert moved[0].read_bytes() == original  # kept for the user, not deleted
    store.close()


def test_a_locked_database_is_moved_aside(tmp_path: Path) -> None:
    path = tmp_path / "history.sqlite3"
    holder = sqlite3.connect(path, isolation_level=None)
    holder.execute("CREATE TABLE other_program (x)")
    holder.execute("BEGIN EXCLUSIVE")  # another program holds the file and never lets go
    holder.execute("INSERT INTO other_program VALUES (1)")
    try:
        store = hi.HistoryStore(path, busy_timeout=0.2)
        entry_id = store.record(connection="A", method="profile")
        assert store.get(entry_id) is not None
        assert "locked by another program" in store.notices[0]
        assert len(list(tmp_path.glob("history.broken-*.sqlite3"))) == 1
        store.close()
    finally:
        holder.rollback()
        holder.close()


def test_corruption_discovered_while_running_is_survived(tmp_path: Path) -> None:
    path = tmp_path / "history.sqlite3"
    store = hi.HistoryStore(path)
    store.record(connection="A", method="first")
    store.close()
    _corrupt_store(path)
    # the same (already opened) store instance meets the damage on its next write
    store = hi.HistoryStore(path)
    store._ready = True  # simulate a store that was opened before the damage happened
    store.record(connection="A", method="after")
    assert [e.method for e in store.search()] == ["after"]
    assert store.notices
    store.close()


async def test_record_outcomes_of_real_calls(store: hi.HistoryStore, sb: Sandbox) -> None:
    from b24explorer.core import AjaxError, B24Client, SdkError, Webhook
    from b24explorer.core.outcome import RequestKind, RequestOutcome

    def outcome(method: str, params: object = None) -> RequestOutcome:
        return RequestOutcome("conn-sb", "Sandbox", RequestKind.CALL, method, 2, params)

    hook = Webhook.parse(sb.webhook_url)
    async with B24Client(hook) as client:
        ok = await client.call("crm.deal.get", {"id": 1}, request_id="rid-ok")
        await store.arecord_outcome(outcome("crm.deal.get", {"id": 1}).answered(ok, 0.0), [hook.secret])
        missing = outcome("crm.deal.get", {"id": 99_999_999})
        try:  # soft codes come back as a failed result, hard ones raise: both are recorded
            missing.answered(await client.call("crm.deal.get", {"id": 99_999_999}), 0.0)
        except AjaxError as exc:
            missing.failed(exc, 0.0)
        await store.arecord_outcome(missing, [hook.secret])
    wrong = Webhook.parse(sb.webhook_url.rsplit("/", 2)[0] + "/wrongsecret123/")
    async with B24Client(wrong) as client:
        try:
            await client.call("profile")
            raise AssertionError("a wrong secret must fail")
        except (AjaxError, SdkError) as exc:
            await store.arecord_outcome(outcome("profile").failed(exc, 0.01), [wrong.secret])

    first, second, third = list(store.iter_all())
    assert (first.method, first.status, first.error_code, first.request_id) == ("crm.deal.get", 200, None, "rid-ok")
    assert first.params_value() == {"id": 1}
    assert first.response is not None
    assert json.loads(first.response)["result"]["ID"] == "1"
    assert first.duration is not None
    assert first.duration > 0
    assert second.is_error
    assert second.error_code
    assert (third.method, third.status, third.error_code, third.response) == ("profile", 401, "INVALID_CREDENTIALS", None)
    store.close()
    assert hook.secret.encode() not in store.path.read_bytes()
