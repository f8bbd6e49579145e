"""Methods that exist in both REST v2 and REST v3, and how their names, keys and values correspond.

This is data: a new v2/v3 pair is one `MethodPair` entry (plus its object's names if it is a new object).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from enum import StrEnum


class Kind(StrEnum):
    GET = "get"
    LIST = "list"
    ADD = "add"
    UPDATE = "update"
    DELETE = "delete"

    @property
    def writes(self) -> bool:
        return self in (Kind.ADD, Kind.UPDATE, Kind.DELETE)


@dataclass(frozen=True)
class ObjectNames:
    """How one object's v2 field names (UPPER_CASE in params, camelCase in answers) become its v3 names."""

    dto: str
    renames: dict[str, str] = field(default_factory=dict)  # v2 UPPER name -> v3 name, where not plain camelCase
    values: dict[str, dict[str, str]] = field(default_factory=dict)  # v3 name -> {v2 code: v3 word}
    nulls: dict[str, frozenset[str]] = field(default_factory=dict)  # v3 name -> v2 values v3 writes as null
    user_flags: frozenset[str] = frozenset()  # v3 lists holding the caller's id where v2 says "Y"

    def v3_name(self, v2_name: str) -> str:
        """The v3 name for a v2 field name in either v2 spelling (`RESPONSIBLE_ID`, `responsibleId`)."""
        upper = upper_case(v2_name)
        return self.renames.get(upper, camel_case(upper))


def camel_case(upper: str) -> str:
    """`RESPONSIBLE_ID` → `responsibleId`."""
    head, *rest = upper.lower().split("_")
    return head + "".join(p[:1].upper() + p[1:] for p in rest)


_HUMP = re.compile(r"(?<=[a-z0-9])(?=[A-Z])")


def upper_case(name: str) -> str:
    """`responsibleId` → `RESPONSIBLE_ID`; an UPPER_CASE name stays as it is."""
    return _HUMP.sub("_", name).upper()


TASK_NAMES = ObjectNames(
    "TaskDto",
    renames={
        "CREATED_BY": "creatorId", "CREATED_DATE": "created", "CHANGED_DATE": "changed",
        "CLOSED_DATE": "closed", "CHANGED_BY": "changedById", "CLOSED_BY": "closedById",
        "STATUS_CHANGED_BY": "statusChangedById", "STATUS_CHANGED_DATE": "statusChanged",
        "START_DATE_PLAN": "startPlan", "END_DATE_PLAN": "endPlan", "DATE_START": "started",
        "TIME_ESTIMATE": "estimatedTime", "ACTIVITY_DATE": "activity", "TASK_CONTROL": "needsControl",
        "ALLOW_CHANGE_DEADLINE": "allowsChangeDeadline", "ALLOW_TIME_TRACKING": "allowsTimeTracking",
        "MATCH_WORK_TIME": "matchesWorkTime", "MULTITASK": "isMultitask", "DURATION_PLAN": "plannedDuration",
        "DURATION_FACT": "actualDuration", "DURATION_TYPE": "durationType", "REAL_STATUS": "status",
        "FAVORITE": "inFavorite", "IS_PINNED": "inPin", "IS_PINNED_IN_GROUP": "inGroupPin", "IS_MUTED": "inMute",
    },
    # v2 sends codes, the v3 docs words; used only where the v3 schema says the field is a string
    values={
        "status": {"1": "pending", "2": "pending", "3": "in_progress", "4": "supposedly_completed",
                   "5": "completed", "6": "deferred", "7": "declined"},
        "priority": {"0": "low", "1": "average", "2": "high"},
    },
    # the v3 task fields page: parentId "is null if there is no parent task"; a task not made from a template
    # has v2 FORKED_BY_TEMPLATE_ID "N" and no v3 forkedByTemplateId
    nulls={"parentId": frozenset({"0"}), "forkedByTemplateId": frozenset({"N", "0"})},
    # v2 "Y"/"N" for the caller; v3 inFavorite/inPin/... hold the caller's id when the setting is on
    user_flags=frozenset({"inFavorite", "inPin", "inGroupPin", "inMute"}),
)
RESULT_NAMES = ObjectNames("TaskResultDto", renames={"CREATED_BY": "authorId"})


@dataclass(frozen=True)
class MethodPair:
    method: str
    kind: Kind
    names: ObjectNames
    id_keys: tuple[str, ...] = ()  # v2 keys carrying the object's id; v3 takes it as `id`
    id_filter: str | None = None  # v2 `taskId` of a sub-list becomes the v3 filter condition on this field
    v2_root: str | None = None  # the v2 answer's wrapper key (`task`, `tasks`)
    v3_root: str | None = None  # the v3 answer's wrapper key (`item`, `items`)
    page_size: int = 50  # a v2 page (what `start` counts in)
    # v3 fields an add must carry (the docs' starred fields); v2 fills some of them itself (the creator: the caller)
    add_requires: tuple[str, ...] = ()

    @property
    def dto(self) -> str:
        return self.names.dto


_TASK_ID = ("taskId", "id")

PAIRS: dict[str, MethodPair] = {p.method: p for p in (
    MethodPair("tasks.task.get", Kind.GET, TASK_NAMES, _TASK_ID, v2_root="task", v3_root="item"),
    MethodPair("tasks.task.list", Kind.LIST, TASK_NAMES, v2_root="tasks", v3_root="items"),
    MethodPair("tasks.task.add", Kind.ADD, TASK_NAMES, v2_root="task", v3_root="item",
               add_requires=("title", "creatorId", "responsibleId")),
    MethodPair("tasks.task.update", Kind.UPDATE, TASK_NAMES, _TASK_ID, v2_root="task"),
    MethodPair("tasks.task.delete", Kind.DELETE, TASK_NAMES, _TASK_ID, v2_root="task"),
    MethodPair("tasks.task.result.list", Kind.LIST, RESULT_NAMES, id_filter="taskId", v3_root="items"),
)}


def pair_for(method: str) -> MethodPair | None:
    return PAIRS.get(method.strip().lower())
