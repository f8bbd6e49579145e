"""REST v3 methods: tasks.task.*, main.eventlog.*, and the v3 service methods (OpenAPI, scope list)."""

from __future__ import annotations

import bisect
import datetime as dt
import json
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from . import schema
from .query import QueryError, compile_v3_filter
from .registry import V3, Answer, ApiError, Ctx, as_int, v3
from .schema import Field
from .store import Table, iso
from .task_v3 import TASK_V3_BASIC, TASK_V3_COLUMNS, TASK_V3_FIELDS, TaskFacts, task_item

P = "BITRIX_REST_V3_EXCEPTION_"


def _param(ctx: Ctx, name: str) -> Any:
    """A top-level v3 parameter, by its exact name (v3 keys are case-sensitive: `ID` is not `id`)."""
    return ctx.params.get(name)


def validation_error(items: list[tuple[str, str]]) -> ApiError:
    return ApiError(400, P + "VALIDATION_REQUESTVALIDATIONEXCEPTION", "Error validating request object",
                    [{"message": m, "field": f} for f, m in items])


_JSON_TYPES = {"integer": "integer", "double": "number", "char": "boolean", "boolean": "boolean"}


@dataclass
class Entity:
    """How one table looks in REST v3: its DTO name, field names, related objects, paging bounds."""

    dto: str
    table: Callable[[Ctx], Table]
    names: dict[str, str]  # UPPER -> v3 name
    basic: list[str]  # fields of `get` without select
    list_default: list[str]  # fields of `list` without select
    related: dict[str, str] = field(default_factory=dict)  # relation name -> UPPER field holding a user id
    max_limit: int = 1000
    required: list[str] = field(default_factory=list)
    filterable: frozenset[str] | None = None  # v3 names a filter may use; None: all
    sortable: frozenset[str] | None = None  # v3 names `order` may use; None: all
    columns: dict[str, str] | None = None  # v3 name -> UPPER column, when the v3 object is not the table's camelCase
    shape: Callable[[Ctx, dict[str, Any]], dict[str, Any]] | None = None  # the whole v3 object of a row

    def fields(self, table: Table) -> dict[str, Field]:
        if self.columns is not None:
            return {name: table.by_name[column] for name, column in self.columns.items() if column in table.by_name}
        return {self.names.get(f.name, f.camel): f for f in table.fields}

    def lookup(self, table: Table) -> Callable[[str], Field | None]:
        by_v3 = self.fields(table)
        return by_v3.get

    def render(self, ctx: Ctx, table: Table, row: dict[str, Any], select: list[str]) -> dict[str, Any]:
        by_v3 = self.fields(table)
        out: dict[str, Any] = {}
        users = ctx.portal.store.users
        whole = self.shape(ctx, row) if self.shape is not None else None
        for name in select:
            if "." in name:
                relation, sub = name.split(".", 1)
                holder = self.related.get(relation)
                if holder is None:
                    continue  # unknown own field: dropped
                user_fields = USER.fields(users)
                if sub not in user_fields:
                    raise ApiError(400, P + "UNKNOWNDTOPROPERTYEXCEPTION",
                                   f"Unknown field `{sub}` for entity `UserDto`")
                user = users.get(row.get(holder))
                nested = out.setdefault(relation, {} if user is not None else None)
                if user is not None and isinstance(nested, dict):
                    nested[sub] = schema.to_native(user_fields[sub], user.get(user_fields[sub].name), "bool")
                continue
            if whole is not None:
                if name in whole:
                    out[name] = whole[name]
                continue
            fld = by_v3.get(name)
            if fld is not None:
                out[name] = schema.to_native(fld, row.get(fld.name), "bool")
        return out

    def select(self, ctx: Ctx, default: list[str]) -> list[str]:
        raw = _param(ctx, "select")
        if raw is None:
            return default
        if not isinstance(raw, list) or not all(isinstance(s, str) for s in raw):
            raise ApiError(400, P + "INVALIDSELECTEXCEPTION", "`select` must be a list of field names")
        return raw or default


def _task_shape(ctx: Ctx, row: dict[str, Any]) -> dict[str, Any]:
    tasks = ctx.portal.store.tasks

    def has_subtasks(task_id: int) -> bool:
        return any(str(other.get("PARENT_ID")) == str(task_id) for other in tasks.rows.values())

    return task_item(row, TaskFacts(ctx.hook.user_id, has_subtasks))


TASK = Entity(
    dto="TaskDto", table=lambda ctx: ctx.portal.store.tasks, names={},
    # the docs: without `select`, get returns the basic set of task fields without related objects
    basic=TASK_V3_BASIC, columns=TASK_V3_COLUMNS, shape=_task_shape,
    list_default=["id"], related={"responsible": "RESPONSIBLE_ID", "creator": "CREATED_BY"},
    max_limit=1000, required=["title", "creatorId", "responsibleId"],
    # the docs: tasks filter on `id` only; these sort (of the fields this portal has)
    filterable=frozenset({"id"}),
    sortable=frozenset({"id", "title", "creatorId", "created", "responsibleId", "deadline", "groupId", "priority",
                        "status", "changed", "closed"}),
)
EVENTLOG = Entity(
    dto="EventLogDto", table=lambda ctx: ctx.portal.store.eventlog, names={},
    basic=[schema.camel_case(f.name) for f in schema.EVENTLOG_FIELDS],
    list_default=[schema.camel_case(f.name) for f in schema.EVENTLOG_FIELDS],
    related={"user": "USER_ID"}, max_limit=1000,
)
USER = Entity(dto="UserDto", table=lambda ctx: ctx.portal.store.users, names={}, basic=[], list_default=[])


def _order(entity: Entity, table: Table, raw: Any) -> list[tuple[Field, bool]]:
    if raw is None or raw == {} or raw == []:
        return [(table.by_name["ID"], False)]
    lookup = entity.lookup(table)
    if not isinstance(raw, dict):
        raise ApiError(400, P + "INVALIDORDEREXCEPTION", f"Unable to recognize sorting parameter `{json.dumps(raw)}`")
    out = []
    for name, direction in raw.items():
        fld = lookup(str(name))
        sortable = entity.sortable is None or name in entity.sortable
        if fld is None or not sortable or str(direction).upper() not in ("ASC", "DESC"):
            raise ApiError(400, P + "INVALIDORDEREXCEPTION",
                           f"Unable to recognize sorting parameter `{json.dumps({name: direction})}`")
        out.append((fld, str(direction).upper() == "DESC"))
    return out


def _pagination(entity: Entity, raw: Any) -> tuple[int, int]:
    """(offset, limit) from `{page, limit, offset}`."""
    if raw is None:
        return 0, 50
    bad = ApiError(400, P + "INVALIDPAGINATIONEXCEPTION",
                   f"Unable to recognize the pagination parameter `{json.dumps(raw, default=str)}`")
    if not isinstance(raw, dict):
        raise bad
    limit = raw.get("limit", 50)
    page = raw.get("page")
    offset = raw.get("offset", 0)
    for value in (limit, page, offset):
        if value is not None and (isinstance(value, bool) or not isinstance(value, int)):
            raise bad
    if not 1 <= limit <= entity.max_limit or (page is not None and page < 0) or offset < 0:
        raise bad
    if page:  # pages count from 1; page 0 (what the JS SDK's keyset helper sends) is the first page too
        offset += (page - 1) * limit
    return offset, limit


def _check_filter(entity: Entity, table: Table, raw: Any) -> None:
    """What a portal checks before it runs a filter: known fields, known operators, filterable, value types."""
    conditions = [raw] if isinstance(raw, list) and raw and isinstance(raw[0], str) else raw
    if isinstance(conditions, dict):
        conditions = [conditions]
    if not isinstance(conditions, list):
        return  # the filter compiler names the shape error
    by_v3 = entity.fields(table)
    for cond in conditions:
        if isinstance(cond, dict):
            inner = cond.get("conditions")
            if isinstance(inner, list):
                _check_filter(entity, table, inner)
            continue
        if not isinstance(cond, list) or len(cond) not in (2, 3) or not isinstance(cond[0], str):
            continue
        name = cond[0]
        op = str(cond[1]).lower() if len(cond) == 3 else ("in" if isinstance(cond[1], list) else "=")
        value = cond[-1]
        fld = by_v3.get(name)
        if fld is None:
            raise ApiError(400, P + "UNKNOWNDTOPROPERTYEXCEPTION", f"Unknown field `{name}` for entity `{entity.dto}`")
        if op not in FILTER_OPERATORS:
            raise ApiError(400, P + "UNKNOWNFILTEROPERATOREXCEPTION", f"Unknown filter operator `{cond[1]}`")
        if entity.filterable is not None and name not in entity.filterable:
            raise validation_error([(name, f"In DTO `{entity.dto}`, the `{name}` field requires the `Filterable` "
                                           "attribute for such a request")])
        values = value if isinstance(value, list) and op in ("in", "between") else [value]
        if fld.type in schema.INT_TYPES and any(isinstance(v, bool) or not isinstance(v, int) for v in values):
            raise validation_error([(name, f"Field `{name}` must be an integer")])


FILTER_OPERATORS = ("=", "!=", ">", ">=", "<", "<=", "in", "between")


def _filter(entity: Entity, table: Table, raw: Any) -> Any:
    _check_filter(entity, table, raw)
    try:
        return compile_v3_filter(raw, entity.lookup(table))
    except QueryError as exc:
        code = "INVALIDFILTEREXCEPTION" if exc.field is None else "VALIDATION_REQUESTFILTERVALIDATIONEXCEPTION"
        raise ApiError(400, P + code, str(exc),
                       [{"field": f"filter.{exc.field}" if exc.field else "filter", "message": str(exc)}]) from None


def _list(ctx: Ctx, entity: Entity) -> Answer:
    table = entity.table(ctx)
    pred = _filter(entity, table, _param(ctx, "filter"))
    order = _order(entity, table, _param(ctx, "order"))
    offset, limit = _pagination(entity, _param(ctx, "pagination"))
    select = entity.select(ctx, entity.list_default)
    key = json.dumps([_param(ctx, "filter"), _param(ctx, "order")], sort_keys=True, default=str)
    ids = ctx.portal.lister.matching_ids(table, pred, order, key)
    ctx.portal.charge_list_page(0)  # REST v3 lists have no total, so nothing is counted
    rows = table.rows
    return Answer({"items": [entity.render(ctx, table, rows[i], select) for i in ids[offset:offset + limit]]})


def _row(ctx: Ctx, entity: Entity, table: Table) -> dict[str, Any]:
    raw = _param(ctx, "id")
    if raw is None:
        raise validation_error([("id", "Required field `id` is not specified")])
    if as_int(raw) is None or isinstance(raw, bool):
        raise validation_error([("id", "Field `id` must be an integer")])
    row = table.get(raw)
    if row is None:
        raise ApiError(400, P + "ENTITYNOTFOUNDEXCEPTION", f"{entity.dto[:-3]} with id {raw} not found")
    return row


def _get(ctx: Ctx, entity: Entity) -> Answer:
    table = entity.table(ctx)
    row = _row(ctx, entity, table)
    return Answer({"item": entity.render(ctx, table, row, entity.select(ctx, entity.basic))})


def _fields_in(ctx: Ctx, entity: Entity, table: Table, creating: bool) -> dict[str, Any]:
    raw = _param(ctx, "fields")
    if not isinstance(raw, dict):
        raise validation_error([("fields", "Required field `fields` is not specified")])
    by_v3 = entity.fields(table)
    out: dict[str, Any] = {}
    for name, value in raw.items():
        fld = by_v3.get(name)
        if fld is None:
            raise ApiError(400, P + "UNKNOWNDTOPROPERTYEXCEPTION", f"Unknown field `{name}` for entity `{entity.dto}`")
        if fld.read_only:
            raise validation_error([(f"fields.{name}", f"Field `{name}` is read-only")])
        if fld.type in schema.INT_TYPES and (isinstance(value, bool) or not isinstance(value, int)):
            raise validation_error([(f"fields.{name}", f"Field `{name}` must be an integer")])
        if isinstance(value, bool):
            value = "Y" if value else "N"
        out[fld.name] = schema.to_v2_value(fld, value)
    if creating:
        missing = [(f"fields.{n}", f"Required field `{n}` is not specified") for n in entity.required
                   if by_v3[n].name not in out or out[by_v3[n].name] in (None, "")]
        if missing:
            raise validation_error(missing)
    return out


def _stamp(ctx: Ctx) -> str:
    return iso(dt.datetime.fromtimestamp(ctx.portal.clock(), dt.UTC))


_SELECT = {"type": "array", "items": {"type": "string"}, "description": "Fields to return; `relation.field` for related objects"}
_FILTER = {"type": "array", "description": "Conditions [field, operator, value] or {logic, conditions} groups, ANDed",
           "items": {"oneOf": [{"type": "array", "minItems": 2, "maxItems": 3},
                               {"type": "object", "properties": {"logic": {"type": "string", "enum": ["and", "or"]},
                                                                 "conditions": {"type": "array"}}}]}}
_ORDER = {"type": "object", "additionalProperties": {"type": "string", "enum": ["ASC", "DESC"]}}
_PAGINATION = {"type": "object", "properties": {"page": {"type": "integer", "minimum": 0},
                                                "limit": {"type": "integer", "minimum": 1, "maximum": 1000},
                                                "offset": {"type": "integer", "minimum": 0}}}
_ID = {"type": "integer", "minimum": 1}


def _obj(required: list[str], **props: Any) -> dict[str, Any]:
    out: dict[str, Any] = {"type": "object", "properties": props}
    if required:
        out["required"] = required
    return out


def _task_properties() -> dict[str, dict[str, Any]]:
    """The v3 task object's fields as OpenAPI properties; read-only unless a writable v2 column holds them."""
    columns = {f.name: f for f in schema.TASK_FIELDS}
    props = {}
    for name, (kind, column) in TASK_V3_FIELDS.items():
        fld = columns.get(column) if column else None
        props[name] = {"type": "string" if kind == "datetime" else kind, "title": fld.title if fld else name,
                       "readOnly": fld is None or fld.read_only}
    return props


def _task_fields_schema(required: bool) -> dict[str, Any]:
    props = {name: {k: v for k, v in spec.items() if k != "readOnly"}
             for name, spec in _task_properties().items() if not spec["readOnly"]}
    out: dict[str, Any] = {"type": "object", "properties": props}
    if required:
        out["required"] = TASK.required
    return out


# --- tasks.task.* ---------------------------------------------------------------------------------------

@v3("tasks.task.get", "tasks", params=_obj(["id"], id=_ID, select=_SELECT), summary="A task by id")
def task_get(ctx: Ctx) -> Answer:
    return _get(ctx, TASK)


@v3("tasks.task.list", "tasks", cost=0.05, summary="Tasks, filtered, ordered and paged",
    params=_obj([], select=_SELECT, filter=_FILTER, order=_ORDER, pagination=_PAGINATION))
def task_list(ctx: Ctx) -> Answer:
    return _list(ctx, TASK)


@v3("tasks.task.add", "tasks", cost=0.05, write=True, summary="Create a task",
    params=_obj(["fields"], fields=_task_fields_schema(True)))
def task_add(ctx: Ctx) -> Answer:
    table = ctx.portal.store.tasks
    values = _fields_in(ctx, TASK, table, creating=True)
    stamp = _stamp(ctx)
    row = dict(table.blank)
    row.update({"DESCRIPTION": "", "STATUS": "2", "PRIORITY": "1", "GROUP_ID": "0", "CREATED_DATE": stamp,
                "CHANGED_DATE": stamp})
    row.update(values)
    row_id = table.insert(row)
    ctx.wrote()
    return Answer({"item": TASK.render(ctx, table, table.rows[row_id], TASK.basic)})


@v3("tasks.task.update", "tasks", cost=0.05, write=True, summary="Change a task",
    params=_obj(["id", "fields"], id=_ID, fields=_task_fields_schema(False)))
def task_update(ctx: Ctx) -> Answer:
    table = ctx.portal.store.tasks
    row = _row(ctx, TASK, table)
    values = _fields_in(ctx, TASK, table, creating=False)
    values["CHANGED_DATE"] = _stamp(ctx)
    table.update(int(row["ID"]), values)
    ctx.wrote()
    return Answer({"result": True})


@v3("tasks.task.delete", "tasks", cost=0.05, write=True, summary="Delete a task", params=_obj(["id"], id=_ID))
def task_delete(ctx: Ctx) -> Answer:
    table = ctx.portal.store.tasks
    row = _row(ctx, TASK, table)
    table.delete(int(row["ID"]))
    ctx.wrote()
    return Answer({"result": True})


# --- main.eventlog.* ------------------------------------------------------------------------------------

@v3("main.eventlog.get", "main", params=_obj(["id"], id=_ID, select=_SELECT), summary="An event log record")
def eventlog_get(ctx: Ctx) -> Answer:
    return _get(ctx, EVENTLOG)


@v3("main.eventlog.list", "main", cost=0.05, summary="Event log records, filtered, ordered and paged",
    params=_obj([], select=_SELECT, filter=_FILTER, order=_ORDER, pagination=_PAGINATION))
def eventlog_list(ctx: Ctx) -> Answer:
    return _list(ctx, EVENTLOG)


_CURSOR = {"type": "object", "required": ["field", "value"],
           "properties": {"field": {"type": "string", "enum": ["id"]}, "value": {"type": "integer"},
                          "order": {"type": "string", "enum": ["ASC", "DESC"]},
                          "limit": {"type": "integer", "minimum": 1, "maximum": 1000}}}


@v3("main.eventlog.tail", "main", cost=0.02, summary="Records after a cursor (native keyset paging)",
    params=_obj([], select=_SELECT, filter=_FILTER, cursor=_CURSOR))
def eventlog_tail(ctx: Ctx) -> Answer:
    table = ctx.portal.store.eventlog
    cursor = _param(ctx, "cursor") or {"field": "id", "value": 0, "order": "ASC", "limit": 50}
    if not isinstance(cursor, dict):
        raise validation_error([("cursor", "`cursor` must be an object")])
    field_name = cursor.get("field", "id")
    order = str(cursor.get("order", "ASC")).upper()
    value = cursor.get("value", 0)
    limit = cursor.get("limit", 50)
    problems = []
    if field_name != "id":
        problems.append(("cursor.field", "Only `id` can be a cursor field"))
    if order not in ("ASC", "DESC"):
        problems.append(("cursor.order", "`order` must be ASC or DESC"))
    if isinstance(value, bool) or not isinstance(value, int):
        problems.append(("cursor.value", "`value` must be an integer"))
    if isinstance(limit, bool) or not isinstance(limit, int) or not 1 <= limit <= 1000:
        problems.append(("cursor.limit", "`limit` must be an integer from 1 to 1000"))
    if problems:
        raise validation_error(problems)
    pred = _filter(EVENTLOG, table, _param(ctx, "filter"))
    select = EVENTLOG.select(ctx, EVENTLOG.list_default)
    ids = table.ids
    if order == "ASC":
        candidates = ids[bisect.bisect_right(ids, value):]
    else:
        candidates = ids[:bisect.bisect_left(ids, value) if value > 0 else len(ids)][::-1]
    out = []
    rows = table.rows
    for i in candidates:
        if pred is None or pred(rows[i]):
            out.append(EVENTLOG.render(ctx, table, rows[i], select))
            if len(out) >= limit:
                break
    return Answer({"items": out})


# --- service methods ------------------------------------------------------------------------------------

def openapi_document() -> dict[str, Any]:
    paths: dict[str, Any] = {}
    for name, spec in sorted(V3.items()):
        operation = {
            "tags": [spec.scope or "basic"], "summary": spec.summary or name, "operationId": name,
            "requestBody": {"required": bool(spec.params.get("required")),
                            "content": {"application/json": {"schema": spec.params or {"type": "object"}}}},
            "responses": {"200": {"description": "Success",
                                  "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Success"}}}},
                          "400": {"description": "Error",
                                  "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}}},
        }
        entry: dict[str, Any] = {"post": operation}
        if not spec.params.get("required"):
            entry["get"] = {k: v for k, v in operation.items() if k != "requestBody"} | {"operationId": f"{name}.get"}
        paths[f"/{name}"] = entry
    dtos: dict[str, Any] = {TASK.dto: {"type": "object", "properties": _task_properties()}}
    for entity, fields in ((EVENTLOG, schema.EVENTLOG_FIELDS),):
        dtos[entity.dto] = {"type": "object", "properties": {
            entity.names.get(f.name, f.camel): {
                "type": _JSON_TYPES.get(f.type, "integer" if f.type in schema.INT_TYPES else "string"),
                "title": f.title, "readOnly": f.read_only} for f in fields}}
    return {
        "openapi": "3.0.0",
        "info": {"title": "Bitrix24 REST V3 API", "version": "3.0.0",
                 "description": "REST 3.0 methods served by this portal"},
        "tags": [{"name": t} for t in sorted({s.scope or "basic" for s in V3.values()})],
        "paths": paths,
        "components": {"schemas": {
            **dtos,
            "Success": {"type": "object", "properties": {"result": {"type": "object"}, "time": {"type": "object"}}},
            "Error": {"type": "object", "properties": {"error": {"type": "object", "properties": {
                "code": {"type": "string"}, "message": {"type": "string"},
                "validation": {"type": "array", "items": {"type": "object", "properties": {
                    "field": {"type": "string"}, "message": {"type": "string"}}}}}}}},
        }},
    }


@v3("rest.documentation.openapi", "", cost=0.01, summary="This portal's REST v3 methods as an OpenAPI document")
def documentation_openapi(ctx: Ctx) -> Answer:
    return Answer(openapi_document(), bare=True)


V3["documentation"] = V3["rest.documentation.openapi"]


@v3("rest.scope.list", "", cost=0.005, summary="The scope of every REST v3 method")
def scope_list(ctx: Ctx) -> Answer:
    return Answer({"item": {name: spec.scope or "basic" for name, spec in sorted(V3.items())}})
