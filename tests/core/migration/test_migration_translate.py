"""v2 params → v3 params, each rule checked against the sandbox: the v3 call succeeds and finds what v2 found."""

from __future__ import annotations

from typing import Any

import pytest
from migration_portal import Portal

from b24explorer.core.migration import (
    PAIRS,
    Match,
    NoV3Twin,
    SchemaSet,
    can_translate,
    compare_answers,
    pair_for,
    translate,
)


def ids_v2(portal: Portal, params: dict[str, Any]) -> list[int]:
    return [int(t["id"]) for t in portal.call_v2("tasks.task.list", params)["tasks"]]


def ids_v3(portal: Portal, params: dict[str, Any]) -> list[int]:
    return [t["id"] for t in portal.call_v3("tasks.task.list", params)["items"]]


def test_get_takes_id_for_task_id_and_camel_case_select(portal: Portal, schemas: SchemaSet) -> None:
    v2_params = {"taskId": 3, "select": ["ID", "TITLE", "RESPONSIBLE_ID", "CREATED_BY", "CREATED_DATE"]}
    v2 = portal.call_v2("tasks.task.get", v2_params)
    # the v2 params as they are: the portal refuses them
    error = portal.v3_error("tasks.task.get", v2_params)
    assert error["validation"] == [{"message": "Required field `id` is not specified", "field": "id"}]
    t = translate("tasks.task.get", v2_params, schemas)
    assert t.clean
    assert t.schema_source == "portal"
    assert t.params == {"id": 3, "select": ["id", "title", "responsibleId", "creatorId", "created"]}
    v3 = portal.call_v3("tasks.task.get", t.params)
    assert set(v3["item"]) == {"id", "title", "responsibleId", "creatorId", "created"}
    rows = compare_answers("tasks.task.get", v2, v3)
    assert {r.status for r in rows} == {Match.SAME}
    assert {(r.path_v2, r.path_v3) for r in rows} == {
        ("task.id", "item.id"), ("task.title", "item.title"), ("task.responsibleId", "item.responsibleId"),
        ("task.createdBy", "item.creatorId"), ("task.createdDate", "item.created")}


def test_a_string_id_and_a_lower_case_key_become_the_v3_integer_id(portal: Portal) -> None:
    for v2_params in ({"taskId": "5"}, {"TASKID": 5}, {"id": "5"}, {"taskId": 5, "id": 9}):
        t = translate("tasks.task.get", v2_params)
        assert t.params == {"id": 5}, v2_params
        assert portal.call_v3("tasks.task.get", t.params)["item"]["id"] == 5


@pytest.mark.parametrize(("v2_filter", "v3_filter"), [
    ({">ID": "140"}, [["id", ">", 140]]),
    ({">=ID": 140}, [["id", ">=", 140]]),
    ({"<ID": 4}, [["id", "<", 4]]),
    ({"<=ID": "4"}, [["id", "<=", 4]]),
    ({"=ID": 7}, [["id", "=", 7]]),
    ({"ID": 7}, [["id", "=", 7]]),
    ({"!ID": 1, "<ID": 4}, [["id", "!=", 1], ["id", "<", 4]]),
    ({"ID": [3, "5", 9]}, [["id", "in", [3, 5, 9]]]),
    ({"@ID": [2, 4]}, [["id", "in", [2, 4]]]),
    ({"LOGIC": "OR", "<ID": 3, ">ID": 148}, [{"logic": "or", "conditions": [["id", "<", 3], ["id", ">", 148]]}]),
    ({">ID": 2, "0": {"LOGIC": "OR", "ID": 5, "=ID": 9}},
     [["id", ">", 2], {"logic": "or", "conditions": [["id", "=", 5], ["id", "=", 9]]}]),
])
def test_each_filter_operator_finds_what_v2_found(portal: Portal, schemas: SchemaSet, v2_filter: dict[str, Any],
                                                  v3_filter: list[Any]) -> None:
    v2_params = {"filter": v2_filter, "select": ["ID"]}
    t = translate("tasks.task.list", v2_params, schemas)
    assert t.clean, t.problems
    assert t.params == {"filter": v3_filter, "select": ["id"]}
    found = ids_v2(portal, v2_params)
    assert found  # every case matches some tasks, so an empty v3 answer could not pass
    assert ids_v3(portal, t.params) == found


def test_between_finds_the_range(portal: Portal, schemas: SchemaSet) -> None:
    # `><` is the v2 between of the CRM filters; tasks v2 spells a range as two bounds
    t = translate("tasks.task.list", {"filter": {"><ID": [10, "13"]}}, schemas)
    assert t.clean
    assert t.params["filter"] == [["id", "between", [10, 13]]]
    assert ids_v3(portal, t.params) == ids_v2(portal, {"filter": {">=ID": 10, "<=ID": 13}}) == [10, 11, 12, 13]
    assert translate("tasks.task.list", {"filter": {"><ID": [10]}}).problems[0].reason == (
        "`><` (between) needs a [from, to] pair")


def test_order_and_start_become_order_and_pagination(portal: Portal, schemas: SchemaSet) -> None:
    v2_params = {"select": ["ID", "TITLE"], "order": {"TITLE": "asc", "ID": "desc"}, "start": 50}
    t = translate("tasks.task.list", v2_params, schemas)
    assert t.clean
    assert t.params == {"select": ["id", "title"], "order": {"title": "ASC", "id": "DESC"},
                        "pagination": {"limit": 50, "offset": 50}}
    assert ids_v3(portal, t.params) == ids_v2(portal, v2_params)
    assert len(ids_v2(portal, v2_params)) == 50
    rows = compare_answers("tasks.task.list", portal.call_v2("tasks.task.list", v2_params),
                           portal.call_v3("tasks.task.list", t.params))
    assert len(rows) == 100
    assert {r.status for r in rows} == {Match.SAME}


def test_select_adds_id_and_expands_star(portal: Portal, schemas: SchemaSet) -> None:
    t = translate("tasks.task.get", {"taskId": 2, "select": ["TITLE"]}, schemas)
    assert t.params["select"] == ["id", "title"]
    assert any("`id` was added" in n for n in t.notes)
    star = translate("tasks.task.get", {"taskId": 2, "select": ["*"]}, schemas)
    item = portal.call_v3("tasks.task.get", star.params)["item"]
    v2 = portal.call_v2("tasks.task.get", {"taskId": 2, "select": ["*"]})
    assert len(v2["task"]) == len(portal.sb.store.tasks.fields)
    assert set(item) == set(schemas.get("TaskDto").fields)  # `*` is every field of the v3 task object
    rows = compare_answers("tasks.task.get", v2, {"item": item})
    assert Match.DIFFERS not in {r.status for r in rows}
    only_v2 = {r.path_v2 for r in rows if r.status is Match.ONLY_V2}  # what the v3 task object does not have
    assert only_v2 == {f"task.{n}" for n in ("notViewed", "sprintId", "backlogId", "commentsCount",
                                             "serviceCommentsCount", "newCommentsCount", "timeSpentInLogs",
                                             "forumId", "subordinate", "viewedDate", "sorting")}
    listed = translate("tasks.task.list", {}, schemas)
    assert listed.params == {}
    assert any("only `id`" in n for n in listed.notes)


@pytest.mark.parametrize(("v2_params", "path", "reason"), [
    ({"filter": {"!STATUS": 5}}, "filter.!STATUS", "filters on `id` only"),
    ({"filter": {"%TITLE": "Call"}}, "filter.%TITLE", "substring match (`%`) has no REST v3 twin"),
    ({"filter": {"=%TITLE": "Call%"}}, "filter.=%TITLE", "LIKE pattern (`=%`) has no REST v3 twin"),
    ({"filter": {"!@ID": [1, 2]}}, "filter.!@ID", "not in a list (`!@`) has no REST v3 twin"),
    ({"filter": {"!ID": [1, 2]}}, "filter.!ID", "\"not in\", which has no REST v3 twin"),
    ({"filter": {"NO_SUCH": 1}}, "filter.NO_SUCH", "has no field `noSuch`"),
    ({"filter": {">ID": "abc"}}, "filter.>ID", "is a whole number in v3"),
    ({"order": {"DESCRIPTION": "asc"}}, "order.DESCRIPTION", "cannot sort TaskDto on `description`"),
    ({"order": {"ID": "sideways"}}, "order.ID", "ASC or DESC"),
    ({"select": ["ID", "UF_CRM_TASK"]}, "select[1]", "user fields"),
    ({"select": ["ID", "NO_SUCH"]}, "select[1]", "has no field `noSuch`"),
    ({"start": "x"}, "start", "whole number"),
    ({"params": {"NAV_PARAMS": {}}}, "params", "takes no parameter `params`"),
])
def test_what_has_no_v3_form_is_reported_not_dropped(portal: Portal, schemas: SchemaSet, v2_params: dict[str, Any],
                                                      path: str, reason: str) -> None:
    t = translate("tasks.task.list", {"select": ["ID"], **v2_params}, schemas)
    assert not t.clean
    assert [(p.path, reason in p.reason) for p in t.problems] == [(path, True)]
    # what could be translated still is, and the portal takes it
    assert portal.call_v3("tasks.task.list", t.params)["items"]


def test_add_update_delete_fields(portal: Portal, schemas: SchemaSet) -> None:
    add = translate("tasks.task.add", {"fields": {"TITLE": "Migrated", "RESPONSIBLE_ID": "3", "CREATED_BY": 1,
                                                  "PRIORITY": "2"}}, schemas)
    assert add.clean
    assert add.params == {"fields": {"title": "Migrated", "responsibleId": 3, "creatorId": 1, "priority": 2}}
    item = portal.call_v3("tasks.task.add", add.params)["item"]
    task_id = item["id"]
    assert (item["title"], item["responsibleId"], item["priority"]) == ("Migrated", 3, 2)
    update = translate("tasks.task.update", {"taskId": str(task_id), "fields": {"title": "Renamed"}}, schemas)
    assert update.clean
    assert update.params == {"id": task_id, "fields": {"title": "Renamed"}}
    portal.call_v3("tasks.task.update", update.params)
    assert portal.sb.store.tasks.rows[task_id]["TITLE"] == "Renamed"
    delete = translate("tasks.task.delete", {"taskId": task_id}, schemas)
    assert delete.params == {"id": task_id}
    portal.call_v3("tasks.task.delete", delete.params)
    assert portal.sb.store.tasks.get(task_id) is None
    read_only = translate("tasks.task.update", {"taskId": 1, "fields": {"CREATED_DATE": "2024-01-01", "X_Y": 1}},
                          schemas)
    assert [(p.path, p.reason) for p in read_only.problems] == [
        ("fields.CREATED_DATE", "`created` is read-only in v3"), ("fields.X_Y", "TaskDto in v3 has no field `xY`")]
    assert translate("tasks.task.add", {}).problems[0].path == "fields"


def test_missing_or_bad_ids_are_reported(schemas: SchemaSet) -> None:
    assert [(p.path, p.reason) for p in translate("tasks.task.get", {"select": ["ID"]}, schemas).problems] == [
        ("taskId", "no `taskId` in the v2 params; v3 requires `id`")]
    assert translate("tasks.task.delete", {"taskId": "12a"}, schemas).problems[0].reason == (
        "the id is not a whole number")
    assert translate("tasks.task.get", ["not", "an", "object"]).problems[0].reason.startswith("v2 params must")


def test_schemas_come_from_the_portal_else_built_in(schemas: SchemaSet) -> None:
    # the sandbox's OpenAPI types `status` as an integer; the built-in (documented) schema as a word
    assert translate("tasks.task.add", {"fields": {"TITLE": "x", "STATUS": "3"}}, schemas).params["fields"] == {
        "title": "x", "status": 3}
    builtin = translate("tasks.task.add", {"fields": {"TITLE": "x", "STATUS": "3", "PRIORITY": 2}})
    assert builtin.schema_source == "builtin"
    assert builtin.params["fields"] == {"title": "x", "status": "in_progress", "priority": "high"}
    for document in (None, {"paths": {}}, {"components": {"schemas": {"OtherDto": {"properties": {"a": {}}}}}}):
        assert SchemaSet(document).get("TaskDto").source == "builtin"
    namespaced = SchemaSet({"components": {"schemas": {"Bitrix.Tasks.TaskDto": {"properties": {
        "id": {"type": "integer"}, "title": {"type": "string"}}}}}}).get("TaskDto")
    assert namespaced.source == "portal"
    assert set(namespaced.fields) == {"id", "title"}
    assert namespaced.filterable == frozenset({"id"})


def test_the_pairs_are_data_and_other_methods_have_no_rule() -> None:
    assert set(PAIRS) == {"tasks.task.get", "tasks.task.list", "tasks.task.add", "tasks.task.update",
                          "tasks.task.delete", "tasks.task.result.list"}
    assert pair_for("Tasks.Task.Get") is PAIRS["tasks.task.get"]
    assert not can_translate("crm.deal.list")
    with pytest.raises(NoV3Twin):
        translate("crm.deal.list", {})
    results = translate("tasks.task.result.list", {"taskId": "8"})
    assert results.clean
    assert results.params == {"filter": [["taskId", 8]]}
    assert translate("tasks.task.result.list", {}).problems[0].path == "taskId"


def test_an_add_without_the_creator_says_v3_needs_it(schemas: SchemaSet) -> None:
    # v2 makes the caller the creator; v3 requires creatorId (a starred field of tasks.task.add's v3 page)
    t = translate("tasks.task.add", {"fields": {"TITLE": "x", "RESPONSIBLE_ID": 1}}, schemas)
    assert not t.clean
    assert [p.path for p in t.problems] == ["fields.creatorId"]
    full = translate("tasks.task.add", {"fields": {"TITLE": "x", "RESPONSIBLE_ID": 1, "CREATED_BY": 1}}, schemas)
    assert full.clean, full.problems
    assert full.params["fields"]["creatorId"] == 1
