"""A v2 answer and a v3 answer, matched field by field in both directions."""

from __future__ import annotations

from migration_portal import Portal

from b24explorer.core.migration import (
    FieldRow,
    Match,
    SchemaSet,
    compare_answers,
    same_value,
    translate,
    v2_key_for,
)
from b24explorer.core.migration.pairs import TASK_NAMES


def by_status(rows: list[FieldRow]) -> dict[Match, list[tuple[str | None, str | None]]]:
    out: dict[Match, list[tuple[str | None, str | None]]] = {}
    for row in rows:
        out.setdefault(row.status, []).append((row.path_v2, row.path_v3))
    return out


def test_real_answers_of_get_match_field_by_field(portal: Portal, schemas: SchemaSet) -> None:
    v2 = portal.call_v2("tasks.task.get", {"taskId": 4})
    v3 = portal.call_v3("tasks.task.get", translate("tasks.task.get", {"taskId": 4}, schemas).params)
    rows = compare_answers("tasks.task.get", v2, v3)
    got = by_status(rows)
    assert Match.DIFFERS not in got, [r for r in rows if r.status is Match.DIFFERS]
    id_row = next(r for r in rows if r.path_v3 == "item.id")
    assert (id_row.path_v2, id_row.value_v2, id_row.value_v3) == ("task.id", "4", 4)
    parent = next(r for r in rows if r.path_v3 == "item.parentId")  # v2 "0" is v3 null: no parent task
    assert (parent.value_v2, parent.value_v3, parent.status) == ("0", None, Match.SAME)
    # v2 fields the v3 task object does not have, and the related objects v3 gives only on `select`
    assert {p2 for p2, _ in got[Match.ONLY_V2]} == {f"task.{n}" for n in (
        "notViewed", "sprintId", "backlogId", "commentsCount", "serviceCommentsCount", "newCommentsCount",
        "timeSpentInLogs", "forumId", "subordinate", "viewedDate", "sorting", "accomplices", "auditors")}
    # v3 fields with no v2 counterpart
    assert {p3 for _, p3 in got[Match.ONLY_V3]} == {f"item.{n}" for n in (
        "epicId", "storyPoints", "containsChecklist", "containsSubTasks", "containsRelatedTasks",
        "containsGanttLinks", "containsPlacements", "containsResults", "numberOfReminders", "chatId",
        "maxDeadlineChangeDate", "maxDeadlineChanges", "requireDeadlineChangeReason", "link", "crmItemIds",
        "emailId", "requireResult", "matchesSubTasksTime", "autocompleteSubTasks", "allowsChangeDatePlan",
        "dependsOn", "scenarios")}
    assert len(rows) == len(v2["task"]) + len(got[Match.ONLY_V3]) == len(v3["item"]) + len(got[Match.ONLY_V2])


def test_only_v2_only_v3_and_differs(portal: Portal, schemas: SchemaSet) -> None:
    v2 = portal.call_v2("tasks.task.get", {"taskId": 4, "select": ["ID", "TITLE", "DESCRIPTION"]})
    v3 = portal.call_v3("tasks.task.get", {"id": 4, "select": ["id", "title", "responsible.name"]})
    v3["item"]["title"] += " (changed)"
    got = by_status(compare_answers("tasks.task.get", v2, v3))
    assert got == {
        Match.SAME: [("task.id", "item.id")],
        Match.DIFFERS: [("task.title", "item.title")],
        Match.ONLY_V2: [("task.description", None)],
        Match.ONLY_V3: [(None, "item.responsible.name")],
    }


def test_list_items_pair_up_by_id_else_by_place_and_extra_ones_are_one_sided() -> None:
    v2 = {"tasks": [{"id": "1", "createdBy": "7"}, {"id": "2", "createdBy": "8"}]}
    v3 = {"items": [{"id": 1, "creatorId": 7}]}
    got = by_status(compare_answers("tasks.task.list", v2, v3))
    assert got == {Match.SAME: [("tasks[0].id", "items[0].id"), ("tasks[0].createdBy", "items[0].creatorId")],
                   Match.ONLY_V2: [("tasks[1].id", None), ("tasks[1].createdBy", None)]}
    by_id = compare_answers("tasks.task.list", {"tasks": [{"id": "2"}, {"id": "9"}]},
                            {"items": [{"id": 1}, {"id": 2}]})
    assert by_status(by_id) == {Match.SAME: [("tasks[0].id", "items[1].id")], Match.ONLY_V2: [("tasks[1].id", None)],
                                Match.ONLY_V3: [(None, "items[0].id")]}
    by_place = compare_answers("tasks.task.list", {"tasks": [{"title": "a"}]},
                               {"items": [{"title": "a"}, {"title": "b"}]})
    assert by_status(by_place) == {Match.SAME: [("tasks[0].title", "items[0].title")],
                                   Match.ONLY_V3: [(None, "items[1].title")]}
    reverse = by_status(compare_answers("tasks.task.list", {"tasks": []}, {"items": [{"id": 5}]}))
    assert reverse == {Match.ONLY_V3: [(None, "items[0].id")]}


def test_values_match_by_meaning() -> None:
    words = TASK_NAMES.values["status"]
    assert same_value("1", 1)
    assert same_value("12.50", 12.5)
    assert same_value("Y", True)
    assert same_value("N", False)
    assert same_value("2", "pending", words)
    assert not same_value("3", "pending", words)
    assert same_value(None, None)
    assert same_value("", None)
    assert same_value(None, [])  # v2 sends null for an empty list
    assert not same_value(None, [1])
    assert same_value(["1", "2"], [1, 2])
    assert not same_value(["1"], [1, 2])
    assert not same_value("1", 2)
    assert not same_value("x", 1)
    assert not same_value("Y", False)
    rows = compare_answers("tasks.task.get", {"task": {"status": "5", "priority": "0"}},
                           {"item": {"status": "completed", "priority": "high"}})
    assert [(r.path_v3, r.status) for r in rows] == [("item.status", Match.SAME), ("item.priority", Match.DIFFERS)]


def test_a_method_without_wrappers_and_the_reverse_name_lookup() -> None:
    rows = compare_answers("tasks.task.update", {"task": {"id": "3"}}, {"result": True})
    assert by_status(rows) == {Match.ONLY_V2: [("task.id", None)], Match.ONLY_V3: [(None, "result")]}
    generic = compare_answers("crm.deal.get", {"ASSIGNED_BY_ID": "1"}, {"assignedById": 1})
    assert [(r.path_v2, r.path_v3, r.status) for r in generic] == [("ASSIGNED_BY_ID", "assignedById", Match.SAME)]
    keys = ["id", "createdBy", "createdDate", "responsibleId"]
    assert v2_key_for("creatorId", keys, TASK_NAMES) == "createdBy"
    assert v2_key_for("created", keys, TASK_NAMES) == "createdDate"
    assert v2_key_for("responsibleId", keys) == "responsibleId"
    assert v2_key_for("closed", keys, TASK_NAMES) is None
