"""`b24x migrate` against the sandbox (which validates v3 params strictly): the v3 request, the comparison,
exit codes 0/1/2, both calls in the history, and the migration report."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from b24explorer.cli import main
from b24explorer.sandbox import Sandbox


@pytest.fixture
def hooked(tmp_path: Path, sb: Sandbox, monkeypatch: pytest.MonkeyPatch) -> Sandbox:
    monkeypatch.setenv("B24X_HOME", str(tmp_path / "home"))
    monkeypatch.setenv("B24X_WEBHOOK", sb.webhook_url)
    return sb


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def history(capsys: pytest.CaptureFixture[str]) -> list[dict]:
    code, out, _ = run(capsys, "history", "--json")
    assert code == 0
    return [json.loads(line) for line in out.splitlines() if line.strip()]


def test_get_prints_the_v3_request_and_the_comparison_and_records_both(
        hooked: Sandbox, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run(capsys, "migrate", "tasks.task.get", "--params", '{"taskId": 1, "select": ["ID","TITLE"]}')
    assert code == 0, out + err
    request = out.split("\n\n")[0]
    assert json.loads(request.split("\n", 1)[1]) == {"id": 1, "select": ["id", "title"]}
    assert "task.id     item.id" in out
    assert '"1"' in out
    assert " 1\n" in out
    assert hooked.secret not in out + err
    rows = history(capsys)
    assert [(r["method"], r["api"]) for r in rows] == [("tasks.task.get", 3), ("tasks.task.get", 2)]
    assert rows[0]["params"] == {"id": 1, "select": ["id", "title"]}
    assert rows[0]["status"] == 200
    assert rows[1]["params"] == {"taskId": 1, "select": ["ID", "TITLE"]}


def test_list_json_has_conditions_order_and_matched_fields(hooked: Sandbox,
                                                            capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "migrate", "tasks.task.list", "--json", "--params",
                       '{"filter": {">ID": 2, "ID": [3, 4, 5]}, "select": ["ID", "TITLE"], "order": {"ID": "DESC"}}')
    doc = json.loads(out)
    assert code == 0
    params = doc["v3_request"]["params"]
    assert ["id", ">", 2] in params["filter"]
    assert ["id", "in", [3, 4, 5]] in params["filter"]
    assert params["order"] == {"id": "DESC"}
    assert doc["v2"]["ok"]
    assert doc["v3"]["ok"]
    first = doc["fields"][0]
    assert (first["v2"], first["v3"], first["status"]) == ("tasks[0].id", "items[0].id", "same")
    assert first["value_v2"] == str(first["value_v3"])


def test_untranslatable_params_exit_2_and_nothing_goes_over_v3(hooked: Sandbox,
                                                                capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "migrate", "tasks.task.list", "--params", '{"filter": {"%TITLE": "alpha"}}')
    assert code == 2
    assert "! not translated filter.%TITLE:" in out
    assert "Not sent over REST v3" in out
    assert [r["api"] for r in history(capsys)] == [2]


def test_a_failed_v3_call_exits_1(hooked: Sandbox, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "migrate", "tasks.task.get", "--params", '{"taskId": 99999}')
    assert code == 1
    assert "REST v3 call failed: BITRIX_REST_V3_EXCEPTION_ENTITYNOTFOUNDEXCEPTION" in out
    recorded = history(capsys)
    assert recorded[0]["api"] == 3
    assert recorded[0]["error_code"]


def test_a_write_goes_over_v3_only_and_no_history_keeps_it_out(hooked: Sandbox,
                                                               capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "migrate", "tasks.task.add", "--no-history", "--json", "--params",
                       '{"fields": {"TITLE": "Migrated", "RESPONSIBLE_ID": 1, "CREATED_BY": 1}}')
    doc = json.loads(out)
    assert doc["v2"] is None  # never sent twice: the v2 call would have created a task too
    assert doc["v3_request"]["params"]["fields"]["title"] == "Migrated"
    assert code == doc["exit_code"]
    assert history(capsys) == []


def test_method_without_rule_and_bad_params_are_bad_input(hooked: Sandbox,
                                                          capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = run(capsys, "migrate", "crm.deal.list")
    assert code == 2
    assert "no REST v3 translation rule" in err
    code, _, err = run(capsys, "migrate", "tasks.task.get", "--params", "{oops")
    assert code == 2
    assert "invalid JSON" in err
    assert history(capsys) == []


def test_report_counts_v2_calls_and_says_what_does_not_translate(hooked: Sandbox,
                                                                  capsys: pytest.CaptureFixture[str]) -> None:
    for params in ('{"taskId": 1}', '{"taskId": 2}'):
        run(capsys, "call", "tasks.task.get", "--params", params)
    run(capsys, "call", "tasks.task.list", "--params", '{"filter": {"%TITLE": "a"}}')
    code, out, _ = run(capsys, "migrate", "--report", "--json")
    assert code == 0
    doc = json.loads(out)
    by_method = {m["method"]: m for m in doc["methods"]}
    assert by_method["tasks.task.get"]["calls"] == 2
    assert by_method["tasks.task.get"]["translates_cleanly"]
    listed = by_method["tasks.task.list"]
    assert listed["calls"] == 1
    assert listed["clean"] == 0
    assert any(reason.startswith("filter.%TITLE") for reason in listed["reasons"])
    code, out, _ = run(capsys, "migrate", "--report")
    assert code == 0
    assert "tasks.task.get: 2 calls, translates cleanly" in out
