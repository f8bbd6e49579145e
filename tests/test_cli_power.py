"""`b24x batch | list | history | export` against the sandbox over loopback: output, exit codes, history."""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import keyring
import pytest
from keyring_backends import MemoryKeyring

from b24explorer.cli import main
from b24explorer.sandbox import Sandbox


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    home = tmp_path / "home"
    monkeypatch.setenv("B24X_HOME", str(home))
    monkeypatch.delenv("B24X_WEBHOOK", raising=False)
    return home


@pytest.fixture
def hooked(home: Path, sb: Sandbox, monkeypatch: pytest.MonkeyPatch) -> Sandbox:
    monkeypatch.setenv("B24X_WEBHOOK", sb.webhook_url)
    return sb


@pytest.fixture
def memory_keyring() -> Iterator[MemoryKeyring]:
    previous = keyring.get_keyring()
    backend = MemoryKeyring()
    keyring.set_keyring(backend)
    yield backend
    keyring.set_keyring(previous)


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def files_under(root: Path) -> Iterator[Path]:
    return (p for p in root.rglob("*") if p.is_file())


# --- batch ----------------------------------------------------------------------------------------------------


def test_batch_with_a_reference_between_commands(hooked: Sandbox, capsys: pytest.CaptureFixture[str]) -> None:
    commands = {
        "deal": ["crm.deal.get", {"id": 3}],
        "same_company": [
            "crm.deal.list",
            {"filter": {"COMPANY_ID": "$result[deal][COMPANY_ID]"}, "select": ["ID", "COMPANY_ID"]},
        ],
    }
    code, out, _err = run(capsys, "batch", "--cmd", json.dumps(commands))
    assert code == 0
    rows = json.loads(out)
    company = rows["deal"]["result"]["COMPANY_ID"]
    expected = sorted(str(d["ID"]) for d in hooked.store.deals if str(d["COMPANY_ID"]) == str(company))
    listed = rows["same_company"]["result"]
    assert expected
    assert sorted(str(d["ID"]) for d in listed) == expected[:50]
    assert {d["COMPANY_ID"] for d in listed} == {company}
    assert rows["same_company"]["total"] == len(expected)
    assert rows["deal"]["error"] is None
    assert rows["deal"]["time"]["duration"] >= 0
    assert hooked.counters.requests() == 1  # one HTTP request for both commands


def test_batch_from_a_file_in_list_form(hooked: Sandbox, tmp_path: Path,
                                        capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "cmd.json"
    path.write_text(json.dumps([["crm.deal.get", {"id": 1}], ["crm.deal.get", {"id": 2}]]))
    code, out, _ = run(capsys, "batch", "--cmd", f"@{path}")
    assert code == 0
    rows = json.loads(out)
    assert [r["result"]["ID"] for r in rows] == ["1", "2"]


def test_batch_of_51_is_refused_before_any_request(hooked: Sandbox, capsys: pytest.CaptureFixture[str]) -> None:
    commands = {f"c{i}": ["crm.deal.get", {"id": i + 1}] for i in range(51)}
    before = hooked.counters.requests()
    code, out, err = run(capsys, "batch", "--cmd", json.dumps(commands))
    assert code == 2
    assert "51" in err
    assert "50" in err
    assert out == ""
    assert hooked.counters.requests() == before


def test_batch_bad_json_names_line_and_column(hooked: Sandbox, capsys: pytest.CaptureFixture[str]) -> None:
    code, _out, err = run(capsys, "batch", "--cmd", '{"a": ["crm.deal.get", {"id": 1}],\n "b": }')
    assert code == 2
    assert "line 2" in err
    assert "column" in err
    assert hooked.counters.requests() == 0


def test_batch_with_a_failing_command_exits_1_and_halts(hooked: Sandbox,
                                                        capsys: pytest.CaptureFixture[str]) -> None:
    commands = {"missing": ["crm.deal.get", {"id": 987654}], "after": ["crm.deal.get", {"id": 1}]}
    code, out, _ = run(capsys, "batch", "--cmd", json.dumps(commands))
    assert code == 1
    rows = json.loads(out)
    assert rows["missing"]["error"] is not None
    assert rows["after"]["result"] is None
    assert rows["after"]["error"]["error"] == "NOT_RUN"

    code, out, _ = run(capsys, "batch", "--no-halt", "--cmd", json.dumps(commands))
    assert code == 1
    rows = json.loads(out)
    assert rows["after"]["result"]["ID"] == "1"


def test_without_a_webhook_is_bad_input(home: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, _out, err = run(capsys, "batch", "--cmd", '[["profile"]]')
    assert code == 2
    assert "B24X_WEBHOOK" in err


def test_an_invalid_webhook_is_bad_input_and_not_echoed(home: Path, capsys: pytest.CaptureFixture[str]) -> None:
    secret = "s3cr3tvalue0123"
    code, _out, err = run(capsys, "list", "crm.deal.list", "--webhook", f"http://example.com/rest/1/{secret}/")
    assert code == 2
    assert secret not in err
    assert "HTTPS" in err.upper()


# --- list -----------------------------------------------------------------------------------------------------


def test_list_streams_10000_deals_as_ndjson_in_at_most_5_requests(
    home: Path, make_sandbox: Any, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    big = make_sandbox(deals=10_000)
    monkeypatch.setenv("B24X_WEBHOOK", big.webhook_url)

    def listing() -> int:
        code, out, err = run(capsys, "list", "crm.deal.list", "--params", '{"select": ["ID", "TITLE"]}')
        assert code == 0
        items = [json.loads(line) for line in out.splitlines()]
        assert len(items) == 10_000
        assert sorted(int(i["ID"]) for i in items) == sorted(int(d["ID"]) for d in big.store.deals)
        summary = [line for line in err.splitlines() if line.startswith("requests=")]
        assert summary, err
        requests, count = (int(part.split("=")[1]) for part in summary[-1].split())
        assert count == 10_000
        return requests

    first = listing()
    # first contact: one plain page and four batches, plus the portal's v3 method list (then cached on disk)
    assert big.counters.requests("crm.deal.list") + big.counters.requests("batch") == 5
    assert big.counters.requests("rest.documentation.openapi") == 1
    assert first == big.counters.requests() == 6
    big.counters.reset()
    assert listing() <= 5  # the v3 list now comes from the cache
    assert big.counters.requests() <= 5
    assert big.counters.requests("rest.documentation.openapi") == 0


def test_list_of_an_unknown_method_exits_1(hooked: Sandbox, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run(capsys, "list", "crm.nothing.list")
    assert code == 1
    assert json.loads(out)["error"] == "ERROR_METHOD_NOT_FOUND"  # no items: the error is the only line
    assert "ERROR_METHOD_NOT_FOUND" in err
    assert "requests=" in err
    assert "items=0" in err


def test_list_params_must_be_an_object(hooked: Sandbox, capsys: pytest.CaptureFixture[str]) -> None:
    code, _out, err = run(capsys, "list", "crm.deal.list", "--params", "[1, 2]")
    assert code == 2
    assert "object" in err
    assert hooked.counters.requests() == 0


# --- profile --------------------------------------------------------------------------------------------------


def _save_profile(name: str, url: str) -> None:
    from b24explorer.core.settings import ConnectionProfile, SettingsStore
    from b24explorer.core.vault import new_reference, save_webhook
    from b24explorer.core.webhook import Webhook

    store = SettingsStore()
    settings = store.load()
    ref = new_reference()
    save_webhook(ref, url)
    settings.add_connection(ConnectionProfile.from_webhook(name, Webhook.parse(url), ref, limits="unlimited"))
    store.save(settings)


def test_profile_takes_the_webhook_from_the_keyring(home: Path, sb: Sandbox, memory_keyring: MemoryKeyring,
                                                     capsys: pytest.CaptureFixture[str]) -> None:
    _save_profile("demo portal", sb.webhook_url)
    code, out, err = run(capsys, "list", "crm.deal.list", "--profile", "demo portal")
    assert code == 0
    assert len(out.splitlines()) == len(sb.store.deals)
    assert "items=200" in err
    # The same portal given as a webhook is recorded under the saved connection's name too.
    assert run(capsys, "batch", "--webhook", sb.webhook_url, "--cmd", '[["profile"]]')[0] == 0
    _code, out, _ = run(capsys, "history", "--json")
    assert [json.loads(line)["connection"] for line in out.splitlines()] == ["demo portal", "demo portal"]
    for path in files_under(home):
        assert sb.secret.encode() not in path.read_bytes(), path.name


def test_unknown_profile_is_bad_input(home: Path, memory_keyring: MemoryKeyring,
                                      capsys: pytest.CaptureFixture[str]) -> None:
    code, _out, err = run(capsys, "batch", "--profile", "nope", "--cmd", '[["profile"]]')
    assert code == 2
    assert "nope" in err


@pytest.mark.real_keyring
@pytest.mark.skipif(os.environ.get("B24X_REAL_KEYRING") != "1", reason="needs a real Secret Service")
def test_profile_through_a_real_secret_service(home: Path, sb: Sandbox, capsys: pytest.CaptureFixture[str]) -> None:
    _save_profile("real keyring portal", sb.webhook_url)
    code, out, _err = run(capsys, "batch", "--profile", "real keyring portal", "--cmd", '{"p": ["profile"]}')
    assert code == 0
    assert json.loads(out)["p"]["result"]["ID"]


# --- history --------------------------------------------------------------------------------------------------


def test_history_lists_searches_shows_resends_and_clears(hooked: Sandbox, home: Path,
                                                         capsys: pytest.CaptureFixture[str]) -> None:
    assert run(capsys, "batch", "--cmd", '{"d": ["crm.deal.get", {"id": 5}]}')[0] == 0
    assert run(capsys, "list", "crm.deal.list", "--params", '{"filter": {"<ID": 60}}')[0] == 0
    assert run(capsys, "batch", "--cmd", '{"x": ["crm.deal.get", {"id": 999999}]}')[0] == 1

    code, out, _ = run(capsys, "history", "--json")
    assert code == 0
    entries = [json.loads(line) for line in out.splitlines()]
    assert [e["kind"] for e in entries] == ["batch", "list", "batch"]
    assert entries[1]["method"] == "crm.deal.list"
    assert entries[1]["params"] == {"filter": {"<ID": 60}}
    assert entries[2]["params"]["cmd"] == {"d": ["crm.deal.get", {"id": 5}]}

    code, out, _ = run(capsys, "history", "--json", "--search", "<ID")
    assert [json.loads(line)["kind"] for line in out.splitlines()] == ["list"]
    code, out, _ = run(capsys, "history", "--json", "--errors")
    assert [json.loads(line)["id"] for line in out.splitlines()] == [entries[0]["id"]]

    code, out, _ = run(capsys, "history", "--show", str(entries[2]["id"]))
    shown = json.loads(out)
    assert shown["response"]["result"]["result"]["d"]["ID"] == "5"

    before = hooked.counters.requests()
    code, out, _ = run(capsys, "history", "--resend", str(entries[2]["id"]))
    assert code == 0
    assert json.loads(out)["d"]["result"]["ID"] == "5"
    assert hooked.counters.requests() == before + 1

    code, out, err = run(capsys, "history", "--resend", str(entries[1]["id"]))  # the list-all again, as NDJSON
    assert code == 0
    assert len(out.splitlines()) == 59
    assert "items=59" in err

    code, out, _ = run(capsys, "history")  # the table form
    assert code == 0
    assert "crm.deal.list (all items)" in out

    assert run(capsys, "history", "--delete", str(entries[1]["id"]))[0] == 0
    assert run(capsys, "history", "--delete", str(entries[1]["id"]))[0] == 2
    code, out, _ = run(capsys, "history", "--json")
    assert entries[1]["id"] not in [json.loads(line)["id"] for line in out.splitlines()]
    assert len(out.splitlines()) == 4  # three sent, two re-sent, one deleted

    for path in files_under(home):
        assert hooked.secret.encode() not in path.read_bytes(), path.name

    assert run(capsys, "history", "--clear")[0] == 0
    code, out, _ = run(capsys, "history", "--json")
    assert out == ""


def test_no_history_flag_records_nothing(hooked: Sandbox, capsys: pytest.CaptureFixture[str]) -> None:
    assert run(capsys, "batch", "--no-history", "--cmd", '[["profile"]]')[0] == 0
    code, out, _ = run(capsys, "history", "--json")
    assert code == 0
    assert out == ""


# --- export ---------------------------------------------------------------------------------------------------


def test_export_every_format_masks_the_secret(hooked: Sandbox, tmp_path: Path,
                                              capsys: pytest.CaptureFixture[str]) -> None:
    for fmt in ("curl", "python", "b24pysdk", "js", "php"):
        out_file = tmp_path / f"export-{fmt}.txt"
        code, _out, err = run(capsys, "export", "--as", fmt, "crm.deal.get", "--params", '{"id": 2}',
                              "-o", str(out_file))
        assert code == 0, err
        text = out_file.read_text()
        assert "crm.deal.get" in text
        assert hooked.secret not in text
        assert f"127.0.0.1:{hooked.port}" in text  # the portal named, its secret not
    code, out, _ = run(capsys, "export", "--as", "curl", "--cmd", '{"a": ["crm.deal.get", {"id": 1}]}')
    assert code == 0
    assert "/batch" in out
    assert hooked.secret not in out


def test_exported_python_runs_and_matches_the_cli(hooked: Sandbox, tmp_path: Path,
                                                  capsys: pytest.CaptureFixture[str]) -> None:
    import subprocess
    import sys

    commands = '{"deal": ["crm.deal.get", {"id": 6}], "more": ["crm.deal.list", {"filter": {"<ID": 3}}]}'
    code, out, _ = run(capsys, "batch", "--cmd", commands)
    assert code == 0
    via_cli = {label: row["result"] for label, row in json.loads(out).items()}

    path = tmp_path / "batch.py"
    assert run(capsys, "export", "--as", "python", "--cmd", commands, "-o", str(path))[0] == 0
    env = {**os.environ, "B24_WEBHOOK": hooked.webhook_url}
    done = subprocess.run([sys.executable, str(path)], capture_output=True, text=True, env=env, timeout=60,
                          check=False)
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["result"]["result"] == via_cli


def test_export_from_history_and_include_secret(hooked: Sandbox, capsys: pytest.CaptureFixture[str]) -> None:
    assert run(capsys, "batch", "--cmd", '{"p": ["profile"]}')[0] == 0
    _code, out, _ = run(capsys, "history", "--json", "--limit", "1")
    entry_id = json.loads(out)["id"]
    code, out, _ = run(capsys, "export", "--as", "js", "--from-history", str(entry_id))
    assert code == 0
    assert "$b24.actions.v2.batch.make(" in out
    assert hooked.secret not in out
    code, out, _ = run(capsys, "export", "--as", "python", "profile", "--include-secret")
    assert code == 0
    assert hooked.secret in out  # asked for explicitly
    assert "WARNING" in out


def test_export_bad_input(home: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert run(capsys, "export", "--as", "curl")[0] == 2  # no method
    assert run(capsys, "export", "--as", "curl", "profile", "--include-secret")[0] == 2  # no webhook to include
    assert run(capsys, "export", "--as", "curl", "--from-history", "4242")[0] == 2
    code, _out, err = run(capsys, "export", "--as", "curl", "x.y", "--params", "{oops")
    assert code == 2
    assert "line 1" in err


def test_history_keeps_bodies_up_to_the_configured_cap(hooked: Sandbox, capsys: pytest.CaptureFixture[str]) -> None:
    from b24explorer.core.settings import SettingsStore

    store = SettingsStore()
    settings = store.load()
    settings.ui.history_response_cap = 200
    store.save(settings)
    assert run(capsys, "batch", "--cmd", '{"list": ["crm.deal.list", {"select": ["ID", "TITLE"]}]}')[0] == 0
    _code, out, _ = run(capsys, "history", "--json", "--limit", "1")
    entry = json.loads(out)
    assert entry["size"] > 200
    _code, out, _ = run(capsys, "history", "--show", str(entry["id"]))
    shown = json.loads(out)
    assert shown["response_truncated"] is True
    assert len(shown["response"].encode()) <= 200


def test_batch_and_list_send_the_given_request_id(hooked: Sandbox, capsys: pytest.CaptureFixture[str]) -> None:
    assert run(capsys, "batch", "--request-id", "audit-batch-1", "--cmd", '[["profile"]]')[0] == 0
    assert run(capsys, "list", "crm.deal.list", "--request-id", "audit-list-1",
               "--params", '{"filter": {"<ID": 3}}')[0] == 0
    _code, out, _ = run(capsys, "history", "--json")
    assert [json.loads(line)["request_id"] for line in out.splitlines()] == ["audit-list-1", "audit-batch-1"]


def test_history_lists_saved_requests(home: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from b24explorer.core.history import HistoryStore

    store = HistoryStore()
    store.save_request("Portal B", "who", "user.current", {})
    store.save_request("Portal A", "deal 5", "crm.deal.get", {"id": 5}, kind="call")
    store.close()
    code, out, _ = run(capsys, "history", "--saved", "--json")
    assert code == 0
    assert [(e["connection"], e["name"], e["kind"], e["params"]) for e in map(json.loads, out.splitlines())] == [
        ("Portal A", "deal 5", "call", {"id": 5}), ("Portal B", "who", None, {})]
    code, out, _ = run(capsys, "history", "--saved", "--connection", "Portal B")
    assert code == 0
    assert "user.current" in out
    assert "crm.deal.get" not in out


def test_batch_labelled_0_and_1_reads_the_arrays_php_writes(hooked: Sandbox,
                                                            capsys: pytest.CaptureFixture[str]) -> None:
    commands = {"0": ["crm.deal.get", {"id": 1}], "1": ["crm.deal.get", {"id": 2}]}
    code, out, _ = run(capsys, "batch", "--cmd", json.dumps(commands))
    assert code == 0
    rows = json.loads(out)
    assert [rows["0"]["result"]["ID"], rows["1"]["result"]["ID"]] == ["1", "2"]
    assert rows["0"]["error"] is None
    assert rows["1"]["time"]["duration"] >= 0
