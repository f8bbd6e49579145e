"""A stored task as the REST v3 task object (TaskDto): the v3 names and JSON types of the docs' task fields.

Each v3 field is read from its v2 column where the portal has one; the others are what this portal knows
of them (no reminders, no chat, no CRM links). v2 columns with no v3 counterpart are not part of TaskDto.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

# v3 name -> (v3 JSON type, v2 column or None)
TASK_V3_FIELDS: dict[str, tuple[str, str | None]] = {
    "id": ("integer", "ID"), "title": ("string", "TITLE"), "description": ("string", "DESCRIPTION"),
    "creatorId": ("integer", "CREATED_BY"), "created": ("datetime", "CREATED_DATE"),
    "responsibleId": ("integer", "RESPONSIBLE_ID"), "deadline": ("datetime", "DEADLINE"),
    "needsControl": ("boolean", "TASK_CONTROL"), "startPlan": ("datetime", "START_DATE_PLAN"),
    "endPlan": ("datetime", "END_DATE_PLAN"), "checklist": ("array", "CHECKLIST"),
    "groupId": ("integer", "GROUP_ID"), "stageId": ("integer", "STAGE_ID"), "epicId": ("integer", None),
    "storyPoints": ("integer", None), "flowId": ("integer", "FLOW_ID"), "priority": ("integer", "PRIORITY"),
    "status": ("integer", "STATUS"), "statusChanged": ("datetime", "STATUS_CHANGED_DATE"),
    "accomplices": ("array", "ACCOMPLICES"), "auditors": ("array", "AUDITORS"),
    "parentId": ("integer", "PARENT_ID"), "containsChecklist": ("boolean", None),
    "containsSubTasks": ("boolean", None), "containsRelatedTasks": ("boolean", None),
    "containsGanttLinks": ("boolean", None), "containsPlacements": ("boolean", None),
    "containsResults": ("boolean", None), "numberOfReminders": ("integer", None), "chatId": ("integer", None),
    "plannedDuration": ("integer", "DURATION_PLAN"), "actualDuration": ("integer", "DURATION_FACT"),
    "durationType": ("string", "DURATION_TYPE"), "started": ("datetime", "DATE_START"),
    "estimatedTime": ("integer", "TIME_ESTIMATE"), "replicate": ("boolean", "REPLICATE"),
    "changed": ("datetime", "CHANGED_DATE"), "changedById": ("integer", "CHANGED_BY"),
    "statusChangedById": ("integer", "STATUS_CHANGED_BY"), "closedById": ("integer", "CLOSED_BY"),
    "closed": ("datetime", "CLOSED_DATE"), "activity": ("datetime", "ACTIVITY_DATE"), "guid": ("string", "GUID"),
    "xmlId": ("string", "XML_ID"), "exchangeId": ("string", "EXCHANGE_ID"),
    "exchangeModified": ("string", "EXCHANGE_MODIFIED"), "outlookVersion": ("integer", "OUTLOOK_VERSION"),
    "mark": ("string", "MARK"), "allowsChangeDeadline": ("boolean", "ALLOW_CHANGE_DEADLINE"),
    "allowsTimeTracking": ("boolean", "ALLOW_TIME_TRACKING"), "matchesWorkTime": ("boolean", "MATCH_WORK_TIME"),
    "addInReport": ("boolean", "ADD_IN_REPORT"), "isMultitask": ("boolean", "MULTITASK"),
    "siteId": ("string", "SITE_ID"), "forkedByTemplateId": ("integer", "FORKED_BY_TEMPLATE_ID"),
    "maxDeadlineChangeDate": ("datetime", None), "maxDeadlineChanges": ("integer", None),
    "requireDeadlineChangeReason": ("boolean", None), "link": ("string", None), "crmItemIds": ("array", None),
    "emailId": ("integer", None), "requireResult": ("boolean", None), "matchesSubTasksTime": ("boolean", None),
    "autocompleteSubTasks": ("boolean", None), "allowsChangeDatePlan": ("boolean", None),
    "inFavorite": ("array", "FAVORITE"), "inPin": ("array", "IS_PINNED"),
    "inGroupPin": ("array", "IS_PINNED_IN_GROUP"), "inMute": ("array", "IS_MUTED"),
    "dependsOn": ("array", None), "scenarios": ("array", None), "forumTopicId": ("integer", "FORUM_TOPIC_ID"),
}
# v3 names -> v2 columns, for filters, order and writes
TASK_V3_COLUMNS = {name: column for name, (_t, column) in TASK_V3_FIELDS.items() if column is not None}
# ids where v2 writes "0" for "none" and v3 null (the docs: parentId "is null if there is no parent task")
_NONE_AS_ZERO = frozenset({"parentId"})
# the current user's per-task flags: v2 "Y"/"N", v3 a list holding the current user's id when set
_USER_FLAGS = frozenset({"inFavorite", "inPin", "inGroupPin", "inMute"})
# related objects of the docs' task object: returned only on `select`
_RELATED = frozenset({"accomplices", "auditors"})
TASK_V3_BASIC = [name for name in TASK_V3_FIELDS if name not in _RELATED]


@dataclass(frozen=True)
class TaskFacts:
    """What the v3 task object needs beyond the row: the caller and the other tasks (for subtasks)."""

    user_id: int
    has_subtasks: Callable[[int], bool]


def _native(kind: str, value: Any) -> Any:
    if value is None or value == "":
        return None if kind != "array" else []
    if kind == "integer":
        try:
            return int(value)
        except (TypeError, ValueError):
            return None  # e.g. v2 "N" for "not made from a template"
    if kind == "boolean":
        return str(value).upper() in ("Y", "1", "TRUE")
    if kind == "array":
        return [int(v) if str(v).isdigit() else v for v in value] if isinstance(value, list) else [value]
    return value


def task_item(row: dict[str, Any], facts: TaskFacts) -> dict[str, Any]:
    """Every field of the v3 task object for a stored row."""
    task_id = int(row["ID"])
    derived: dict[str, Any] = {
        "containsChecklist": bool(row.get("CHECKLIST")), "containsSubTasks": facts.has_subtasks(task_id),
        "containsRelatedTasks": False, "containsGanttLinks": False, "containsPlacements": False,
        "containsResults": False, "numberOfReminders": 0, "requireDeadlineChangeReason": False,
        "requireResult": False, "matchesSubTasksTime": False, "autocompleteSubTasks": False,
        "allowsChangeDatePlan": False, "scenarios": ["default"],
        "link": f"/company/personal/user/{facts.user_id}/tasks/task/view/{task_id}/",
    }
    out: dict[str, Any] = {}
    for name, (kind, column) in TASK_V3_FIELDS.items():
        if column is None:
            out[name] = derived.get(name, [] if kind == "array" else None)
            continue
        value = row.get(column)
        if name in _USER_FLAGS:
            out[name] = [facts.user_id] if str(value).upper() == "Y" else []
        elif name in _NONE_AS_ZERO and str(value) in ("0", "", "None"):
            out[name] = None
        else:
            out[name] = _native(kind, value)
    return out
