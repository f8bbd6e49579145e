"""REST v2 methods: system, users and departments, classic CRM, crm.item, tasks.task."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable
from typing import Any

from . import schema
from .query import Lister, QueryError, compile_v2_filter, parse_order
from .registry import V2, Answer, ApiError, Ctx, as_int, as_list, truthy, v2
from .schema import Field
from .store import Table, iso

NOT_FOUND = ApiError(400, "", "Not found")


def lookup_upper(table: Table) -> Callable[[str], Field | None]:
    by_name = table.by_name
    return lambda name: by_name.get(name.upper())


def lookup_item(table: Table) -> Callable[[str], Field | None]:
    """crm.item.* names (`createdTime`), falling back to the classic UPPER_CASE ones."""
    by_item, by_name = table.by_item, table.by_name
    return lambda name: by_item.get(name) or by_name.get(name.upper())


def lookup_camel(table: Table) -> Callable[[str], Field | None]:
    by_camel, by_name = table.by_camel, table.by_name
    return lambda name: by_camel.get(name) or by_name.get(name.upper())


def list_page(ctx: Ctx, table: Table, flt: Any, order_raw: Any, lookup: Callable[[str], Field | None],
              default_order: dict[str, str] | None = None,
              strict: bool = False) -> tuple[list[int], int | None, int | None]:
    """One v2 page: (ids, total, next). `start=-1` skips the count, so no total and no next.

    `strict` refuses filter and order fields the table does not have (400 INVALID_ARG_VALUE), as
    `crm.item.list` does; the classic list methods ignore them."""
    size = ctx.portal.page_size
    start_raw = ctx.param("start", 0)
    start = as_int(start_raw, 0) or 0
    if not isinstance(flt, (dict, list)):
        flt = {}
    try:
        order = parse_order(order_raw, lookup, strict=strict) or parse_order(default_order or {"ID": "ASC"}, lookup)
        pred = compile_v2_filter(table, flt, lookup, strict=True) if strict else None
    except QueryError as exc:
        raise ApiError(400, "INVALID_ARG_VALUE", str(exc)) from None
    window = Lister.id_window(table, flt, order)
    if window is None:
        if not strict:
            pred = compile_v2_filter(table, flt, lookup)
        key = json.dumps([flt, order_raw], sort_keys=True, default=str) if pred is not None or order else None
        window = ctx.portal.lister.matching_ids(table, pred, order, key, flt, size if start == -1 else None)
    if start == -1:
        ctx.portal.charge_list_page(0)
        return window[:size], None, None
    start = max(start, 0)
    total = len(window)
    ctx.portal.charge_list_page(total)  # `total` is a COUNT of every matching row
    nxt = start + size if start + size < total else None
    return window[start:start + size], total, nxt


def project(rows: list[dict[str, Any]], select: list[str], fields: dict[str, Field],
            always: tuple[str, ...] = ("ID",)) -> list[dict[str, Any]]:
    wanted = [s.upper() for s in select if isinstance(s, str) and s]
    if not wanted or "*" in wanted:
        return rows
    keep = [f for f in always if f in fields]
    keep += [w for w in wanted if w in fields and w not in keep]
    return [{k: r.get(k) for k in keep} for r in rows]


def clean_fields(table: Table, raw: Any, *, creating: bool, lookup: Callable[[str], Field | None]) -> dict[str, Any]:
    if not isinstance(raw, dict):
        return {}
    out: dict[str, Any] = {}
    for key, value in raw.items():
        field = lookup(str(key))
        if field is None or field.name == "ID" or (field.read_only and not creating):
            continue
        if field.read_only:
            continue
        out[field.name] = schema.to_v2_value(field, value)
    return out


def merge_multifields(ctx: Ctx, table: Table, before: dict[str, Any], values: dict[str, Any]) -> None:
    """PHONE/EMAIL/WEB/IM as a portal changes them: a value with an ID replaces that value (or removes it when
    its VALUE is empty), one without is added with a new ID; HAS_PHONE/HAS_EMAIL/HAS_IMOL follow."""
    for name in [n for n in values if table.by_name[n].type == "crm_multifield"]:
        current = [dict(v) for v in before.get(name) or []]
        for item in values[name]:
            if "ID" in item:
                current = [({**v, **item} if v["ID"] == item["ID"] else v) for v in current
                           if not (v["ID"] == item["ID"] and not item["VALUE"])]
            elif item["VALUE"]:
                current.append({"ID": ctx.portal.store.multifield_id(), **item})
        values[name] = current
        flag = {"PHONE": "HAS_PHONE", "EMAIL": "HAS_EMAIL", "IM": "HAS_IMOL"}.get(name)
        if flag in table.by_name:
            values[flag] = "Y" if current else "N"


def now_iso(ctx: Ctx) -> str:
    return iso(dt.datetime.fromtimestamp(ctx.portal.clock(), dt.UTC))


# --- system ------------------------------------------------------------------------------------------

@v2("server.time", "", cost=0.001)
def server_time(ctx: Ctx) -> Answer:
    return Answer(now_iso(ctx))


@v2("profile", "", cost=0.002)
def profile(ctx: Ctx) -> Answer:
    user = ctx.portal.store.users.get(ctx.hook.user_id) or {}
    if not user or not user.get("ACTIVE"):
        return Answer({})
    return Answer({"ID": user["ID"], "ADMIN": ctx.hook.user_id == 1, "NAME": user["NAME"],
                   "LAST_NAME": user["LAST_NAME"], "PERSONAL_GENDER": user["PERSONAL_GENDER"],
                   "TIME_ZONE": "", "TIME_ZONE_OFFSET": 10800})


@v2("user.current", "user", cost=0.002)
def user_current(ctx: Ctx) -> Answer:
    user = ctx.portal.store.users.get(ctx.hook.user_id)
    if user is None:
        raise ApiError(401, "NO_AUTH_FOUND", "Wrong authorization data")
    return Answer(dict(user))


@v2("user.get", "user", cost=0.01)
def user_get(ctx: Ctx) -> Answer:
    table = ctx.portal.store.users
    flt = ctx.param("filter")
    if not isinstance(flt, dict):
        flt = {}
    # Top-level keys that name a user field act as a filter too (`user.get?ID=1`).
    for key, value in ctx.params.items():
        if str(key).upper() in table.by_name and str(key).upper() not in {"FILTER"}:
            flt = {**flt, str(key).upper(): value}
    if not truthy(ctx.param("ADMIN_MODE", False)) and "ACTIVE" not in {k.upper() for k in flt}:
        flt = {**flt, "ACTIVE": True}
    order: Any = {}
    sort = ctx.param("sort")
    if isinstance(sort, str) and sort:
        order = {sort: ctx.param("order", "ASC")}
    ids, total, nxt = list_page(ctx, table, flt, order, lookup_upper(table))
    rows = [dict(table.rows[i]) for i in ids]
    return Answer(rows, total, nxt)


@v2("department.get", "department", cost=0.005)
def department_get(ctx: Ctx) -> Answer:
    table = ctx.portal.store.departments
    flt = {k: ctx.param(k) for k in ("ID", "NAME", "SORT", "PARENT", "UF_HEAD") if ctx.param(k) is not None}
    order: Any = {}
    sort = ctx.param("sort")
    if isinstance(sort, str) and sort:
        order = {sort: ctx.param("order", "ASC")}
    if ctx.param("START") is not None and "start" not in ctx.params:
        ctx.params["start"] = ctx.param("START")
    ids, total, nxt = list_page(ctx, table, flt, order, lookup_upper(table))
    rows = []
    for i in ids:
        row = {k: v for k, v in table.rows[i].items() if v is not None}
        rows.append(row)
    return Answer(rows, total, nxt)


@v2("scope", "", cost=0.001)
def scope(ctx: Ctx) -> Answer:
    """The webhook's scopes; with `full=true`, every permission the portal has (scopes/permissions.md)."""
    if truthy(ctx.param("full", False)):
        return Answer(ctx.portal.portal_scopes())
    return Answer(ctx.portal.webhook_scopes(ctx.hook))


@v2("methods", "", cost=0.002)
def methods(ctx: Ctx) -> Answer:
    wanted_scope = ctx.param("scope")
    names = []
    for name, spec in sorted(V2.items()):
        if wanted_scope is not None:
            if spec.scope != str(wanted_scope):
                continue
        elif not truthy(ctx.param("full", False)) and not ctx.portal.hook_allows(ctx.hook, spec.scope):
            continue
        names.append(name)
    return Answer(names)


@v2("method.get", "", cost=0.001)
def method_get(ctx: Ctx) -> Answer:
    name = str(ctx.param("name") or "").strip().lower()
    spec = V2.get(name) if name else None
    return Answer({"isExisting": spec is not None,
                   "isAvailable": spec is not None and ctx.portal.hook_allows(ctx.hook, spec.scope)})


@v2("feature.get", "", cost=0.001)
def feature_get(ctx: Ctx) -> Answer:
    code = ctx.param("CODE")
    if not code:
        raise ApiError(400, "CODE_EMPTY", "CODE can't be empty")
    enabled = {"rest_offline_extended": ctx.portal.events.offline_extended, "rest_auth_connector": True}
    return Answer({"value": "Y" if enabled.get(str(code)) else "N"})


# --- classic CRM (crm.deal.* / crm.lead.* / crm.contact.* / crm.company.*) ------------------------------

CRM_TABLES = {"lead": 1, "deal": 2, "contact": 3, "company": 4}
ENTITY_BY_TYPE_ID = {type_id: entity for entity, type_id in CRM_TABLES.items()}


def _crm_table(ctx: Ctx, entity: str) -> Table:
    return ctx.portal.store.crm[CRM_TABLES[entity]]


def _crm_row(ctx: Ctx, table: Table, *, positive_id: bool = False) -> dict[str, Any]:
    """The row the `id` param names: 400 for an id that is no number (or, with positive_id, not above 0), the
    portal's not-found error for an unknown one."""
    raw = ctx.param("id")
    number = as_int(raw)
    if number is None or (positive_id and number <= 0):
        raise ApiError(400, "", "ID is not defined or invalid.")
    row = table.get(raw)
    if row is None:
        raise NOT_FOUND
    return row


def _register_crm(entity: str) -> None:
    prefix = f"crm.{entity}"

    def fields(ctx: Ctx) -> Answer:
        table = _crm_table(ctx, entity)
        return Answer({f.name: schema.descriptor(f) for f in table.fields})

    def get(ctx: Ctx) -> Answer:
        table = _crm_table(ctx, entity)
        row = _crm_row(ctx, table, positive_id=True)
        return Answer(table.raw(int(row["ID"])))

    def list_(ctx: Ctx) -> Answer:
        table = _crm_table(ctx, entity)
        lookup = lookup_upper(table)
        ids, total, nxt = list_page(ctx, table, ctx.param("filter"), ctx.param("order"), lookup)
        select = [str(s) for s in as_list(ctx.param("select"))]
        if not [s for s in select if s and s != "*" and s.upper() != "UF_*"]:
            return Answer([table.raw(i) for i in ids], total, nxt)  # every field: cached JSON per row
        rows = table.rows
        return Answer(project([rows[i] for i in ids], select, table.by_name), total, nxt)

    def add(ctx: Ctx) -> Answer:
        table = _crm_table(ctx, entity)
        values = clean_fields(table, ctx.param("fields"), creating=True, lookup=lookup_upper(table))
        if entity == "company" and not values.get("TITLE"):
            raise ApiError(400, "", "Required fields are not filled: Company name")
        row = dict(table.blank)
        stamp = now_iso(ctx)
        row.update({"ASSIGNED_BY_ID": str(ctx.hook.user_id), "CREATED_BY_ID": str(ctx.hook.user_id),
                    "MODIFY_BY_ID": str(ctx.hook.user_id), "DATE_CREATE": stamp, "DATE_MODIFY": stamp,
                    "OPENED": "Y", "COMMENTS": ""})
        if entity == "deal":
            row.update({"CATEGORY_ID": "0", "STAGE_ID": "NEW", "STAGE_SEMANTIC_ID": "P", "IS_NEW": "Y",
                        "CURRENCY_ID": "USD", "OPPORTUNITY": "0.00", "CLOSED": "N", "PROBABILITY": None,
                        "IS_MANUAL_OPPORTUNITY": "N", "COMPANY_ID": "0"})
        if entity == "lead":
            row.update({"STATUS_ID": "NEW", "CURRENCY_ID": "USD", "OPPORTUNITY": "0.00"})
        merge_multifields(ctx, table, {}, values)
        row.update(values)
        if "TITLE" in table.by_name and not row.get("TITLE"):
            row["TITLE"] = f"{entity.capitalize()} #{table.next_id}"
        row_id = table.insert(row)
        ctx.wrote()
        return Answer(row_id)

    def update(ctx: Ctx) -> Answer:
        table = _crm_table(ctx, entity)
        row = _crm_row(ctx, table)
        values = clean_fields(table, ctx.param("fields"), creating=False, lookup=lookup_upper(table))
        merge_multifields(ctx, table, row, values)
        values["DATE_MODIFY"] = now_iso(ctx)
        values["MODIFY_BY_ID"] = str(ctx.hook.user_id)
        table.update(int(row["ID"]), values)
        ctx.wrote()
        return Answer(True)

    def delete(ctx: Ctx) -> Answer:
        table = _crm_table(ctx, entity)
        row = _crm_row(ctx, table)
        table.delete(int(row["ID"]))
        ctx.wrote()
        return Answer(True)

    v2(f"{prefix}.fields", "crm", cost=0.005)(fields)
    v2(f"{prefix}.get", "crm", cost=0.01)(get)
    v2(f"{prefix}.list", "crm", cost=0.05)(list_)
    v2(f"{prefix}.add", "crm", cost=0.05, write=True)(add)
    v2(f"{prefix}.update", "crm", cost=0.05, write=True)(update)
    v2(f"{prefix}.delete", "crm", cost=0.05, write=True)(delete)


for _entity in CRM_TABLES:
    _register_crm(_entity)


# --- crm.item.* (camelCase, native types, wrapped answers) ---------------------------------------------

def item_table(ctx: Ctx) -> Table:
    raw = ctx.param("entityTypeId")
    if raw is None or raw == "":
        raise ApiError(400, "ENTITY_TYPE_ID_REQUIRED", "entityTypeId is required")
    table = ctx.portal.store.crm.get(as_int(raw, -1) or -1)
    if table is None:
        raise ApiError(400, "NOT_FOUND", "Smart process not found")
    return table


def render_item(table: Table, row: dict[str, Any], select: list[str] | None = None) -> dict[str, Any]:
    fields = table.fields
    if select:
        wanted = {s for s in select if isinstance(s, str)}
        if "*" not in wanted:
            fields = [f for f in fields if f.name == "ID" or schema.item_name(f) in wanted or f.name in wanted]
    return {schema.item_name(f): schema.to_native(f, row.get(f.name)) for f in fields}


def _item_row(ctx: Ctx, table: Table) -> dict[str, Any]:
    row = table.get(ctx.param("id"))
    if row is None:
        raise ApiError(400, "NOT_FOUND", "Item not found")
    return row


@v2("crm.item.fields", "crm", cost=0.005)
def item_fields(ctx: Ctx) -> Answer:
    table = item_table(ctx)
    return Answer({"fields": {schema.item_name(f): schema.descriptor(f, with_upper_name=True) for f in table.fields}})


@v2("crm.item.get", "crm", cost=0.01)
def item_get(ctx: Ctx) -> Answer:
    table = item_table(ctx)
    return Answer({"item": render_item(table, _item_row(ctx, table))})


@v2("crm.item.list", "crm", cost=0.05)
def item_list(ctx: Ctx) -> Answer:
    table = item_table(ctx)
    lookup = lookup_item(table)
    ids, total, nxt = list_page(ctx, table, ctx.param("filter"), ctx.param("order"), lookup, strict=True)
    select = [str(s) for s in as_list(ctx.param("select"))]
    rows = table.rows
    return Answer({"items": [render_item(table, rows[i], select) for i in ids]}, total, nxt)


@v2("crm.item.add", "crm", cost=0.05, write=True)
def item_add(ctx: Ctx) -> Answer:
    """Same defaults and checks as the classic `crm.<entity>.add`, with camelCase field names accepted."""
    table = item_table(ctx)
    entity = ENTITY_BY_TYPE_ID[as_int(ctx.param("entityTypeId")) or 0]
    raw = ctx.param("fields")
    upper = {(table.by_item[k].name if k in table.by_item else k): v for k, v in raw.items()} \
        if isinstance(raw, dict) else {}
    ctx.params = {**ctx.params, "fields": upper}
    answer = V2[f"crm.{entity}.add"].handler(ctx)
    return Answer({"item": render_item(table, table.rows[answer.result])})


@v2("crm.item.update", "crm", cost=0.05, write=True)
def item_update(ctx: Ctx) -> Answer:
    table = item_table(ctx)
    row = _item_row(ctx, table)
    values = clean_fields(table, ctx.param("fields"), creating=False, lookup=lookup_item(table))
    merge_multifields(ctx, table, row, values)
    values["DATE_MODIFY"] = now_iso(ctx)
    table.update(int(row["ID"]), values)
    ctx.wrote()
    return Answer({"item": render_item(table, table.rows[int(row["ID"])])})


@v2("crm.item.delete", "crm", cost=0.05, write=True)
def item_delete(ctx: Ctx) -> Answer:
    table = item_table(ctx)
    row = _item_row(ctx, table)
    table.delete(int(row["ID"]))
    ctx.wrote()
    return Answer([])


# --- tasks.task.* (v2: UPPER filter/select keys, camelCase string answers, {"task"}/{"tasks"} wrappers) --

TASK_V2_NAMES = {"CREATED_BY": "createdBy"}


def render_task_v2(table: Table, row: dict[str, Any], select: list[str] | None = None) -> dict[str, Any]:
    fields = table.fields
    if select:
        wanted = {s.upper() for s in select if isinstance(s, str)}
        if "*" not in wanted:
            fields = [f for f in fields if f.name == "ID" or f.name in wanted]
    return {TASK_V2_NAMES.get(f.name, f.camel): row.get(f.name) for f in fields}


WRONG_TASK_ID = ApiError(400, "0", "wrong task id")


def _task_id(ctx: Ctx) -> int:
    """The `taskId` (or `id`) param: error "0" "wrong task id" when it is no positive number."""
    raw = ctx.param("taskId")
    if raw is None:
        raw = ctx.param("id")
    if raw is None:
        raise ApiError(400, "100", "CTaskItem All parameters in the constructor must have real class type "
                                   "(internal error)")
    number = as_int(raw)
    if number is None or number <= 0:
        raise WRONG_TASK_ID
    return number


def _task_row(ctx: Ctx) -> dict[str, Any]:
    row = ctx.portal.store.tasks.get(_task_id(ctx))
    if row is None:
        raise ApiError(400, "ERROR_CORE", "Task not found or not accessible")
    return row


@v2("tasks.task.get", "task", cost=0.01)
def task_get(ctx: Ctx) -> Answer:
    """A task that does not exist or is not accessible answers 200 with `"result": []`."""
    table = ctx.portal.store.tasks
    select = ctx.param("select")
    if select is not None and not isinstance(select, (list, dict)):
        raise ApiError(400, "100", f"Invalid value {json.dumps(select)} to match with parameter {{select}}. "
                                   "Should be value of type array. (internal error)")
    row = table.get(_task_id(ctx))
    if row is None:
        return Answer([])
    return Answer({"task": render_task_v2(table, row, [str(s) for s in as_list(select)])})


@v2("tasks.task.list", "task", cost=0.05)
def task_list(ctx: Ctx) -> Answer:
    table = ctx.portal.store.tasks
    lookup = lookup_camel(table)
    ids, total, nxt = list_page(ctx, table, ctx.param("filter"), ctx.param("order"), lookup)
    select = [str(s) for s in as_list(ctx.param("select"))]
    return Answer({"tasks": [render_task_v2(table, table.rows[i], select) for i in ids]}, total, nxt)


@v2("tasks.task.add", "task", cost=0.05, write=True)
def task_add(ctx: Ctx) -> Answer:
    table = ctx.portal.store.tasks
    values = clean_fields(table, ctx.param("fields"), creating=True, lookup=lookup_camel(table))
    if not values.get("TITLE"):
        raise ApiError(400, "ERROR_CORE", "Required fields are not filled: TITLE")
    stamp = now_iso(ctx)
    row = dict(table.blank)
    row.update({"DESCRIPTION": "", "STATUS": "2", "PRIORITY": "1", "RESPONSIBLE_ID": str(ctx.hook.user_id),
                "CREATED_BY": str(ctx.hook.user_id), "GROUP_ID": "0", "CREATED_DATE": stamp, "CHANGED_DATE": stamp})
    row.update(values)
    row_id = table.insert(row)
    ctx.wrote()
    return Answer({"task": render_task_v2(table, table.rows[row_id])})


@v2("tasks.task.update", "task", cost=0.05, write=True)
def task_update(ctx: Ctx) -> Answer:
    table = ctx.portal.store.tasks
    row = _task_row(ctx)
    values = clean_fields(table, ctx.param("fields"), creating=False, lookup=lookup_camel(table))
    values["CHANGED_DATE"] = now_iso(ctx)
    table.update(int(row["ID"]), values)
    ctx.wrote()
    return Answer({"task": render_task_v2(table, table.rows[int(row["ID"])])})


@v2("tasks.task.delete", "task", cost=0.05, write=True)
def task_delete(ctx: Ctx) -> Answer:
    table = ctx.portal.store.tasks
    row = _task_row(ctx)
    table.delete(int(row["ID"]))
    ctx.wrote()
    return Answer({"task": True})


@v2("batch", "", cost=0.0)
def batch(ctx: Ctx) -> Answer:
    """Listed for `methods`/`method.get`; the portal runs batch itself (it needs every other method)."""
    raise ApiError(405, "ERROR_BATCH_METHOD_NOT_ALLOWED", "Method is not allowed for batch usage")
