"""The fields of a REST v3 object (a DTO such as `TaskDto`): names, JSON types, which can filter and sort.

Names and types come from the portal's OpenAPI document (`components.schemas`) when it describes the object;
otherwise from the built-in description below (the public REST 3.0 docs). The docs say which fields filter
and sort; OpenAPI does not, so those two lists are always the documented ones, narrowed to the known fields.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

SOURCE_PORTAL = "portal"
SOURCE_BUILTIN = "builtin"


@dataclass(frozen=True)
class FieldSpec:
    name: str  # the v3 name, e.g. `responsibleId`
    type: str = "string"  # JSON schema type: integer, number, string, boolean, array, object
    read_only: bool = False


@dataclass(frozen=True)
class EntitySchema:
    dto: str
    fields: Mapping[str, FieldSpec]
    filterable: frozenset[str] | None = None  # None: every field filters
    sortable: frozenset[str] | None = None  # None: every field sorts
    relations: frozenset[str] = frozenset()  # related objects, selected as `relation.field`
    source: str = SOURCE_BUILTIN

    def field(self, name: str) -> FieldSpec | None:
        return self.fields.get(name)

    def can_filter(self, name: str) -> bool:
        return self.filterable is None or name in self.filterable

    def can_sort(self, name: str) -> bool:
        return self.sortable is None or name in self.sortable

    def described_filterable(self) -> str:
        return "any field" if self.filterable is None else ", ".join(f"`{n}`" for n in sorted(self.filterable))


def _specs(text: str, read_only: Iterable[str] = ()) -> dict[str, FieldSpec]:
    """`"id:integer title description"` (string is the default type) → {name: FieldSpec}."""
    frozen = set(read_only)
    out: dict[str, FieldSpec] = {}
    for token in text.split():
        name, _, kind = token.partition(":")
        out[name] = FieldSpec(name, kind or "string", name in frozen)
    return out


# The task object of REST 3.0 (docs: tasks/fields-rest-v3.md); dates are ISO-8601 strings.
_TASK_FIELDS = _specs(
    "id:integer title description creatorId:integer created responsibleId:integer deadline "
    "needsControl:boolean startPlan endPlan checklist:array groupId:integer stageId:integer epicId:integer "
    "storyPoints:integer flowId:integer priority status statusChanged accomplices:array auditors:array "
    "parentId:integer containsChecklist:boolean containsSubTasks:boolean containsRelatedTasks:boolean "
    "containsGanttLinks:boolean containsPlacements:boolean containsResults:boolean numberOfReminders:integer "
    "chatId:integer plannedDuration:integer actualDuration:integer durationType started estimatedTime:integer "
    "replicate:boolean changed changedById:integer statusChangedById:integer closedById:integer closed activity "
    "guid xmlId exchangeId exchangeModified outlookVersion:integer mark allowsChangeDeadline:boolean "
    "allowsTimeTracking:boolean matchesWorkTime:boolean isMultitask:boolean siteId forumTopicId:integer link",
    read_only=("id", "created", "changed", "closed", "statusChanged", "activity", "link", "containsChecklist",
               "containsSubTasks", "containsRelatedTasks", "containsGanttLinks", "containsPlacements",
               "containsResults", "numberOfReminders", "chatId", "changedById", "statusChangedById", "closedById"),
)
_TASK_SORTABLE = frozenset(
    ["id", "title", "creatorId", "created", "responsibleId", "deadline", "startPlan", "endPlan", "groupId", "priority", "status", "started", "estimatedTime", "changed", "closed", "activity", "mark", "allowsChangeDeadline", "allowsTimeTracking"]
)
_TASK_RELATIONS = frozenset(
    ["creator", "responsible", "group", "stage", "flow", "parent", "chat", "accomplices", "auditors", "changedBy", "statusChangedBy", "closedBy"]
)

# A task's result (docs: tasks/result/tasks-task-result-list-rest-v3.md).
_RESULT_FIELDS = _specs("id:integer taskId:integer text authorId:integer createdAt updatedAt status "
                        "messageId:integer", read_only=("id", "createdAt", "updatedAt"))

BUILTIN_SCHEMAS: dict[str, EntitySchema] = {
    "TaskDto": EntitySchema("TaskDto", _TASK_FIELDS, frozenset({"id"}), _TASK_SORTABLE, _TASK_RELATIONS),
    "TaskResultDto": EntitySchema(
        "TaskResultDto", _RESULT_FIELDS, frozenset({"taskId", "id", "authorId", "status", "messageId"}),
        frozenset({"id", "authorId", "createdAt", "updatedAt", "status", "messageId"}), frozenset({"author"}),
    ),
}


@dataclass
class SchemaSet:
    """The v3 objects of one portal, each from its OpenAPI document when it has one, else built in."""

    document: Any = None
    _cache: dict[str, EntitySchema] = field(default_factory=dict, repr=False)

    def get(self, dto: str) -> EntitySchema:
        if dto not in self._cache:
            self._cache[dto] = from_openapi(self.document, dto) or BUILTIN_SCHEMAS[dto]
        return self._cache[dto]

    def sources(self) -> dict[str, str]:
        """Where each object looked up so far came from (portal | builtin)."""
        return {dto: schema.source for dto, schema in self._cache.items()}


def from_openapi(document: Any, dto: str) -> EntitySchema | None:
    """The object `dto` as the portal's OpenAPI document describes it; None when the document has no such object."""
    if not isinstance(document, Mapping):
        return None
    schemas = (document.get("components") or {}).get("schemas") if isinstance(document.get("components"),
                                                                              Mapping) else None
    if not isinstance(schemas, Mapping):
        return None
    found = schemas.get(dto)
    if found is None:  # namespaced names, e.g. `Bitrix.Tasks.TaskDto`
        found = next((v for k, v in schemas.items() if str(k).rsplit(".", 1)[-1] == dto), None)
    props = found.get("properties") if isinstance(found, Mapping) else None
    if not isinstance(props, Mapping) or not props:
        return None
    fields = {
        str(name): FieldSpec(str(name), str(spec.get("type") or "string"), bool(spec.get("readOnly")))
        for name, spec in props.items() if isinstance(spec, Mapping)
    }
    builtin = BUILTIN_SCHEMAS.get(dto)

    def narrowed(names: frozenset[str] | None) -> frozenset[str] | None:
        return None if names is None else frozenset(n for n in names if n in fields)

    return EntitySchema(
        dto, fields,
        filterable=narrowed(builtin.filterable) if builtin else None,
        sortable=narrowed(builtin.sortable) if builtin else None,
        relations=builtin.relations if builtin else frozenset(),
        source=SOURCE_PORTAL,
    )
