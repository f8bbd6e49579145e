"""Pre-send checks: each check on a small catalog made in the test, and the usual mistakes on the shipped one."""

from __future__ import annotations

import json
from typing import Any

import pytest

from b24explorer.core import reference
from b24explorer.core.precheck import (
    Code,
    ConnectionFacts,
    Finding,
    Severity,
    check_batch,
    check_request,
    has_problems,
)
from b24explorer.core.reference import MethodRef, ParamRef, ReferenceCatalog, ReferenceCatalogError

P = ParamRef

CATALOG = ReferenceCatalog([
    MethodRef("crm.item.list", 2, ("crm",), (P("entityTypeId", "integer", True), P("select", "array"),
                                              P("filter", "object"), P("order", "object"), P("start", "integer"))),
    MethodRef("crm.item.update", 2, ("crm",), (P("entityTypeId", "integer", True), P("id", "integer", True),
                                                P("fields", "object", True)),
              fields={"fields": (P("title", "string"), P("stageId", "string"))}),
    MethodRef("crm.deal.update", 2, ("crm",), (P("ID", "integer", True), P("fields", "object", True)),
              fields={"fields": (P("TITLE", "string"),)}, deprecated=True, replacement="crm.item.update"),
    MethodRef("tasks.task.list", 3, ("task",), (P("select", "array"), P("filter", "array"), P("order", "object")),
              twin="tasks.task.list"),
    MethodRef("tasks.task.list", 2, ("task",), (P("filter", "object"), P("select", "array")), twin="tasks.task.list"),
    MethodRef("main.eventlog.list", 3, ("main",), (P("filter", "array"),)),
    MethodRef("placement.bind", 2, ("placement",), (P("PLACEMENT", "string", True), P("HANDLER", "string", True)),
              app_context=True, admin=True),
    MethodRef("crm.deal.fields", 2, ("crm",)),
    MethodRef("batch", 2, ("basic",), (P("halt", "boolean"), P("cmd", "object", True))),
])


def check(method: str, params: Any, api: int = 2, facts: ConnectionFacts | None = None) -> list[Finding]:
    return check_request(method, params, api, facts, CATALOG)


def codes(findings: list[Finding]) -> list[Code]:
    return [f.code for f in findings]


def test_a_clean_request_has_no_findings() -> None:
    assert check("crm.item.list", {"entityTypeId": 2, "select": ["id"], "filter": {">id": 0}}) == []
    assert check("tasks.task.list", {"filter": [["status", "=", 2]], "select": ["id"]}, api=3) == []
    assert check("crm.item.update", {"entityTypeId": 2, "id": 1, "fields": {"title": "x"}, "auth": "t"}) == []
    assert not has_problems([])


def test_unknown_key_with_did_you_mean() -> None:
    [finding] = check("crm.item.list", {"entityTypeId": 2, "filtr": {"id": 1}})
    assert finding == Finding(Code.UNKNOWN_KEY, Severity.WARNING, "filtr",
                              "crm.item.list has no param 'filtr'; did you mean 'filter'?", "filter")
    [far] = check("crm.item.list", {"entityTypeId": 2, "zzz": 1})
    assert far.code == Code.UNKNOWN_KEY
    assert far.suggestion == ""
    assert "did you mean" not in far.message


def test_a_method_whose_page_lists_no_params_takes_any_key() -> None:
    assert check("crm.deal.fields", {"anything": 1}) == []


def test_filter_and_FILTER_both_present() -> None:
    findings = check("crm.item.list", {"entityTypeId": 2, "FILTER": {"id": 1}, "filter": {"id": 2}})
    assert codes(findings) == [Code.CASE_COLLISION]  # not also a case mismatch for the same key
    assert findings[0].severity == Severity.ERROR
    assert findings[0].path == "filter"
    assert "'FILTER' and 'filter'" in findings[0].message


def test_a_collision_is_found_without_the_catalog(monkeypatch: pytest.MonkeyPatch) -> None:
    def missing() -> ReferenceCatalog:
        raise ReferenceCatalogError("not installed")

    monkeypatch.setattr("b24explorer.core.precheck.reference_catalog", missing)
    findings = check_request("crm.deal.list", {"ID": 1, "id": 2, "filtr": 1})
    assert codes(findings) == [Code.CASE_COLLISION]  # the docs-based checks are skipped, not guessed


def test_id_spelled_the_other_way() -> None:
    [upper] = check("crm.item.update", {"entityTypeId": 2, "ID": 5, "fields": {"title": "x"}})
    assert (upper.code, upper.path, upper.suggestion) == (Code.CASE_MISMATCH, "ID", "id")
    [lower] = [f for f in check("crm.deal.update", {"id": 5, "fields": {"TITLE": "x"}}) if f.code != Code.DEPRECATED]
    assert (lower.code, lower.path, lower.suggestion) == (Code.CASE_MISMATCH, "id", "ID")
    assert Code.MISSING_REQUIRED not in codes([upper, lower])  # present, only mis-cased


def test_nested_field_spelled_the_other_way() -> None:
    [finding] = [f for f in check("crm.deal.update", {"ID": 5, "fields": {"title": "x"}}) if f.code != Code.DEPRECATED]
    assert (finding.code, finding.path, finding.suggestion) == (Code.CASE_MISMATCH, "fields.title", "TITLE")


def test_v2_filter_sent_to_a_v3_method() -> None:
    [finding] = check("tasks.task.list", {"filter": {">=id": 5, "status": 2, "id": [1, 2]}}, api=3)
    assert finding.code == Code.V2_FILTER_ON_V3
    assert finding.severity == Severity.ERROR
    assert json.loads(finding.suggestion) == [["id", ">=", 5], ["status", "=", 2], ["id", "in", [1, 2]]]
    [like] = check("main.eventlog.list", {"filter": {"%name": "x"}}, api=3)
    assert like.code == Code.V2_FILTER_ON_V3
    assert like.suggestion == ""
    assert check("main.eventlog.list", {"filter": {"logic": "or", "conditions": [["id", 1]]}}, api=3) == []


def test_v3_filter_sent_to_a_v2_method() -> None:
    [finding] = check("tasks.task.list", {"filter": [["STATUS", "=", 2], ["ID", ">", 10], ["ID", [1, 2]]]})
    assert finding.code == Code.V3_FILTER_ON_V2
    assert finding.path == "filter"
    assert json.loads(finding.suggestion) == {"STATUS": 2, ">ID": 10, "@ID": [1, 2]}
    [grouped] = check("tasks.task.list", {"filter": [{"logic": "or", "conditions": [["ID", 1], ["ID", 2]]}]})
    assert grouped.code == Code.V3_FILTER_ON_V2
    assert grouped.suggestion == ""
    assert check("tasks.task.list", {"filter": {"ID": [1, 2]}}) == []  # a v2 IN list is not a v3 filter


def test_required_params_missing() -> None:
    findings = check("crm.item.update", {"fields": {}})
    assert [(f.code, f.path, f.severity) for f in findings] == [
        (Code.MISSING_REQUIRED, "entityTypeId", Severity.ERROR), (Code.MISSING_REQUIRED, "id", Severity.ERROR)]


def test_write_method_on_a_read_only_connection() -> None:
    read_only = ConnectionFacts(read_only=True)
    [finding] = check("crm.item.update", {"entityTypeId": 2, "id": 1, "fields": {}}, facts=read_only)
    assert (finding.code, finding.severity) == (Code.WRITE_ON_READ_ONLY, Severity.ERROR)
    assert check("crm.item.list", {"entityTypeId": 2}, facts=read_only) == []
    assert check("crm.item.update", {"entityTypeId": 2, "id": 1, "fields": {}}) == []  # writable connection
    batch = check("batch", {"halt": 0, "cmd": {"a": "crm.item.list?entityTypeId=2",
                                                "b": "crm.item.delete?entityTypeId=2&id=1"}}, facts=read_only)
    assert [(f.code, f.path) for f in batch] == [(Code.WRITE_ON_READ_ONLY, "cmd.b")]


def test_connection_facts_scope_and_application_context() -> None:
    findings = check("placement.bind", {"PLACEMENT": "CRM_DEAL_LIST_MENU", "HANDLER": "https://example.com"},
                     facts=ConnectionFacts(scopes=frozenset({"crm"})))
    assert codes(findings) == [Code.SCOPE_NOT_GRANTED, Code.NEEDS_APP_CONTEXT]
    app = ConnectionFacts(scopes=frozenset({"placement"}), webhook=False)
    assert check("placement.bind", {"PLACEMENT": "X", "HANDLER": "Y"}, facts=app) == []


def test_deprecated_undocumented_and_other_version() -> None:
    [deprecated] = check("crm.deal.update", {"ID": 1, "fields": {}})
    assert (deprecated.code, deprecated.severity, deprecated.suggestion) == (
        Code.DEPRECATED, Severity.INFO, "crm.item.update")
    [typo] = check("crm.item.lst", {})
    assert (typo.code, typo.suggestion) == (Code.UNDOCUMENTED_METHOD, "crm.item.list")
    [custom] = check("vendor.custom.thing", {"x": 1})
    assert (custom.code, custom.suggestion) == (Code.UNDOCUMENTED_METHOD, "")
    [v3_only] = check("main.eventlog.list", {})
    assert (v3_only.code, v3_only.severity) == (Code.OTHER_API_VERSION, Severity.WARNING)
    assert not has_problems([deprecated, typo])
    assert has_problems([v3_only])
    assert has_problems([deprecated], at_least=Severity.INFO)


def test_params_that_are_not_an_object_get_the_method_checks_only() -> None:
    assert check("crm.item.list", [1, 2]) == []
    assert check("crm.item.update", None, facts=ConnectionFacts(read_only=True))[0].code == Code.WRITE_ON_READ_ONLY


def test_the_usual_mistakes_on_the_shipped_catalog(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(reference, "_loaded", None)
    findings = check_request("crm.item.list", {"entityTypeId": 2, "filtr": {"id": 1}, "ID": 3, "id": 4})
    assert {(f.code, f.path, f.suggestion) for f in findings} >= {
        (Code.UNKNOWN_KEY, "filtr", "filter"), (Code.CASE_COLLISION, "id", "keep one of 'ID' and 'id'")}
    assert check_request("crm.item.list", {"entityTypeId": 2, "filter": {">id": 0}}) == []
    assert codes(check_request("tasks.task.list", {"filter": {"status": 2}}, api=3)) == [Code.V2_FILTER_ON_V3]


def test_each_command_of_a_batch() -> None:
    commands = {
        "items": ["crm.item.list", {"entityTypeId": 2, "filtr": {"id": 1}}],
        "update": {"method": "crm.item.update", "params": {"entityTypeId": 2, "id": "$result[items][0][id]"}},
    }
    findings = check_batch(commands, facts=ConnectionFacts(read_only=True), catalog=CATALOG)
    assert [(f.code, f.path) for f in findings] == [
        (Code.UNKNOWN_KEY, "items.filtr"), (Code.WRITE_ON_READ_ONLY, "update"),
        (Code.MISSING_REQUIRED, "update.fields")]
    assert check_batch([["crm.item.list", {"entityTypeId": 2}], ["crm.deal.fields"]], catalog=CATALOG) == []
    [bad] = check_batch([42], catalog=CATALOG)
    assert (bad.code, bad.severity) == (Code.BAD_BATCH_ROW, Severity.ERROR)
    assert "neither [method, params]" in bad.message
