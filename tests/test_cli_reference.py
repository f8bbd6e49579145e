"""`b24x methods`, `b24x doc` and `--check` of call/batch/list: the documented API offline, and the pre-send checks
with nothing sent (the sandbox's request counter says so); the read-only switch of a saved connection."""

from __future__ import annotations

import json

import pytest
from test_cli_connection import b24x, memory_keyring  # noqa: F401  (the fixture, for the read-only switch)

from b24explorer.core.reference import reference_catalog
from b24explorer.sandbox import Sandbox

# ---------------------------------------------------------------- methods


def test_methods_json_lists_every_documented_method_of_both_versions() -> None:
    code, out, err = b24x("methods", "--json")
    assert code == 0, err
    methods = json.loads(out)
    catalog = reference_catalog()
    assert len(methods) == len(catalog) == catalog.count(2) + catalog.count(3)
    assert sum(m["api"] == 2 for m in methods) == catalog.count(2)
    assert sum(m["api"] == 3 for m in methods) == catalog.count(3)
    assert len({(m["name"], m["api"]) for m in methods}) == len(methods)
    deal_list = next(m for m in methods if m["name"] == "crm.deal.list")
    assert deal_list["scopes"] == ["crm"]
    assert deal_list["doc_url"].endswith("/api-reference/crm/deals/crm-deal-list.html")
    assert f"{len(methods)} methods" in err


def test_methods_filter_by_scope_and_search_and_refuse_an_unknown_scope() -> None:
    code, out, _ = b24x("methods", "--json", "--scope", "crm", "--search", "productrows")
    assert code == 0
    names = [m["name"] for m in json.loads(out)]
    assert "crm.deal.productrows.set" in names
    assert all("productrows" in n and n.startswith("crm.") for n in names)
    code, out, _ = b24x("methods", "--search", "deal.productrows")
    assert code == 0
    assert out.splitlines()[0].split()[:2] == ["crm.deal.productrows.get", "v2"]
    code, out, err = b24x("methods", "--scope", "crmm")
    assert (code, out) == (2, "")
    assert "did you mean crm" in err


# ---------------------------------------------------------------- doc


def test_doc_of_a_product_rows_method_shows_scope_version_flags_params_and_link() -> None:
    code, out, err = b24x("doc", "crm.deal.productrows.set")
    assert code == 0, err
    lines = out.splitlines()
    assert lines[0] == "crm.deal.productrows.set — REST v2"
    assert "scope:   crm" in lines
    assert "flags:   deprecated → crm.item.productrow.*" in lines
    assert "docs:    https://apidocs.bitrix24.com/api-reference/crm/deals/crm-deal-productrows-set.html" in lines
    table = lines[lines.index("params:") + 1:]
    assert table[0].split() == ["name", "type", "required"]
    assert table[1].split() == ["id", "integer", "yes"]
    assert table[2].split() == ["rows", "object[]"]
    assert ["rows.PRODUCT_ID", "integer"] in [row.split() for row in table]

    code, out, _ = b24x("doc", "crm.deal.productrows.set", "--json")
    doc = json.loads(out)
    assert (doc["api"], doc["deprecated"], doc["replacement"]) == (2, True, "crm.item.productrow.*")
    rows = next(p for p in doc["params"] if p["name"] == "rows")
    assert "QUANTITY" in [f["name"] for f in rows["fields"]]


def test_doc_of_a_v3_method_names_its_twin_and_an_unknown_name_gets_a_suggestion() -> None:
    code, out, _ = b24x("doc", "tasks.task.list", "--api", "3")
    assert code == 0
    assert out.splitlines()[0] == "tasks.task.list — REST v3"
    assert "REST v2 twin: tasks.task.list" in out
    code, out, err = b24x("doc", "crm.deal.lsit")
    assert (code, out) == (2, "")
    assert "did you mean crm.deal.list" in err


# ---------------------------------------------------------------- --check: nothing is sent


def _check(sb: Sandbox, *argv: str) -> tuple[int, dict, str]:
    sb.counters.reset()
    code, out, err = b24x(*argv, "--check", "--webhook", sb.webhook_url)
    assert sb.counters.requests() == 0, "--check sent a request"
    return code, json.loads(out), err


def test_check_of_a_case_collision_exits_2_and_sends_nothing(sb: Sandbox) -> None:
    code, report, err = _check(sb, "call", "crm.deal.list",
                               "--params", '{"FILTER": {"STAGE_ID": "NEW"}, "filter": {">ID": 1}}')
    assert code == 2
    assert report["problems"] is True
    assert "case-collision" in [f["code"] for f in report["findings"]]
    assert "nothing was sent" in err


def test_check_of_an_unknown_key_suggests_the_documented_one(sb: Sandbox) -> None:
    code, report, err = _check(sb, "list", "crm.deal.list", "--params", '{"filtr": {">ID": 1}}')
    assert code == 2
    [unknown] = [f for f in report["findings"] if f["code"] == "unknown-key"]
    assert (unknown["path"], unknown["suggestion"]) == ("filtr", "filter")
    assert "did you mean 'filter'" in err


def test_check_of_a_clean_request_exits_0_and_sends_nothing(sb: Sandbox) -> None:
    code, report, err = _check(sb, "call", "crm.item.list",
                               "--params", '{"entityTypeId": 2, "select": ["id"], "filter": {">id": 1}}')
    assert code == 0, err
    assert report == {"method": "crm.item.list", "api": 2, "problems": False, "findings": []}
    assert "no problems found" in err


def test_check_of_a_batch_names_the_command_of_each_finding(sb: Sandbox) -> None:
    code, report, _ = _check(sb, "batch", "--cmd",
                             '{"a": ["crm.item.list", {"entityTypeId": 2}], "b": ["crm.deal.list", {"selct": []}]}')
    assert code == 2
    assert [(f["code"], f["path"]) for f in report["findings"] if f["severity"] != "info"] == [
        ("unknown-key", "b.selct")]


# ---------------------------------------------------------------- the read-only switch


@pytest.mark.usefixtures("memory_keyring")
def test_a_read_only_connection_refuses_writes_and_still_reads(sb: Sandbox) -> None:
    assert b24x("connection", "add", "Prod", "--read-only", stdin=sb.webhook_url + "\n")[0] == 0
    code, out, _ = b24x("connection", "list", "--json")
    assert json.loads(out)["read_only"] is True
    sb.counters.reset()
    code, out, err = b24x("call", "crm.deal.add", "--profile", "Prod", "--params", '{"fields": {"TITLE": "x"}}')
    assert (code, out) == (2, "")
    assert "read-only" in err
    code, out, err = b24x("call", "crm.deal.add", "--profile", "Prod", "--check")
    assert code == 2
    assert "write-on-read-only" in [f["code"] for f in json.loads(out)["findings"]]
    code, _, err = b24x("batch", "--profile", "Prod", "--cmd", '{"a": ["crm.deal.delete", {"id": 1}]}')
    assert code == 2
    assert sb.counters.requests() == 0
    assert b24x("call", "server.time", "--profile", "Prod")[0] == 0  # reads still go
    assert sb.counters.requests("server.time") == 1
    assert b24x("connection", "read-only", "Prod", "off")[0] == 0
    code, out, _ = b24x("call", "crm.deal.add", "--profile", "Prod", "--params", '{"fields": {"TITLE": "x"}}')
    assert code == 0
    assert sb.counters.writes("crm.deal.add") == 1
