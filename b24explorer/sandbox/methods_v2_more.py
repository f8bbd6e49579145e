"""More REST v2 methods: CRM pipelines and status lists, timeline comments, user and department fields,
department edits and system notifications, with the answers and errors of their docs pages."""

from __future__ import annotations

from typing import Any

from . import schema
from .methods_v2 import list_page, lookup_upper, now_iso
from .query import compile_v2_filter, parse_order
from .registry import Answer, ApiError, Ctx, as_int, as_list, v2
from .store import DEAL_CATEGORIES, Table

# --- crm.category.list (universal/category/crm-category-list.md) -----------------------------------------

_TYPE_NAMES = {1: "Lead", 2: "Deal", 3: "Contact", 4: "Company"}


@v2("crm.category.list", "crm", cost=0.01)
def category_list(ctx: Ctx) -> Answer:
    type_id = as_int(ctx.param("entityTypeId"))
    if type_id not in _TYPE_NAMES:
        raise ApiError(400, "NOT_FOUND", "Smart process not found")
    if type_id == 1:
        raise ApiError(400, "ENTITY_TYPE_NOT_SUPPORTED", "Entity type `Lead` is not supported")
    categories: list[dict[str, Any]] = []
    for category_id, name, sort in (DEAL_CATEGORIES if type_id == 2 else [(0, "General", 300)]):
        row: dict[str, Any] = {"id": category_id, "name": name, "sort": sort, "entityTypeId": type_id,
                               "isDefault": "Y" if category_id == 0 else "N"}
        if category_id:
            row.update({"originId": "", "originatorId": ""})
        categories.append(row)
    categories.sort(key=lambda c: (c["sort"], c["id"]))
    return Answer({"categories": categories}, total=len(categories))


# --- crm.status.list (crm/status/crm-status-list.md) -------------------------------------------------------

@v2("crm.status.list", "crm", cost=0.01)
def status_list(ctx: Ctx) -> Answer:
    table = ctx.portal.store.statuses
    flt, order = ctx.param("filter"), ctx.param("order")
    if (flt is not None and not isinstance(flt, (dict, list))) or (order is not None and not isinstance(order, dict)):
        raise ApiError(400, "Invalid parameters.", "Incorrect parameters passed.")
    lookup = lookup_upper(table)
    pred = compile_v2_filter(table, flt or {}, lookup)
    ids = ctx.portal.lister.matching_ids(table, pred, parse_order(order or {"SORT": "ASC"}, lookup), None)
    return Answer([table.rows[i] for i in ids])


# --- crm.timeline.comment.* (crm/timeline/comments/*) ------------------------------------------------------

_OWNER_TYPES = {"lead": 1, "deal": 2, "contact": 3, "company": 4}
COMMENT_NOT_FOUND = ApiError(400, "NOT_FOUND", "Not found.")


def _comment(ctx: Ctx) -> dict[str, Any]:
    number = as_int(ctx.param("id"))
    if number is None:
        raise ApiError(400, "100", "Required fields are not provided")
    row = ctx.portal.store.comments.get(number)
    if row is None:
        raise COMMENT_NOT_FOUND
    return row


@v2("crm.timeline.comment.fields", "crm", cost=0.005)
def comment_fields(ctx: Ctx) -> Answer:
    return Answer({f.name: schema.descriptor(f) for f in ctx.portal.store.comments.fields})


@v2("crm.timeline.comment.add", "crm", cost=0.05, write=True)
def comment_add(ctx: Ctx) -> Answer:
    fields = ctx.param("fields")
    if not isinstance(fields, dict):
        raise ApiError(400, "100", "Required fields are not provided")
    data = {str(k).upper(): v for k, v in fields.items()}
    entity_type = str(data.get("ENTITY_TYPE") or "").lower()
    entity_id = as_int(data.get("ENTITY_ID"))
    if not entity_type or entity_id is None:
        raise ApiError(400, "100", "Required fields are not provided")
    owner = ctx.portal.store.crm.get(_OWNER_TYPES.get(entity_type, -1))
    if owner is None or owner.get(entity_id) is None:
        raise ApiError(400, "OWNER_NOT_FOUND", "Owner of the item not found")
    comment = str(data.get("COMMENT") or "").strip()
    if not comment:
        raise ApiError(400, "INVALID_ARG_VALUE", "Empty comment")
    row_id = ctx.portal.store.comments.insert({
        "ENTITY_ID": str(entity_id), "ENTITY_TYPE": entity_type, "CREATED": now_iso(ctx), "COMMENT": comment,
        "AUTHOR_ID": str(ctx.hook.user_id), "FILES": None})
    ctx.wrote()
    return Answer(row_id)


@v2("crm.timeline.comment.get", "crm", cost=0.01)
def comment_get(ctx: Ctx) -> Answer:
    row = ctx.portal.store.comments.get(as_int(ctx.param("id")))
    if row is None:
        raise ApiError(400, "", "Not found.")
    return Answer({k: v for k, v in row.items() if v is not None})


@v2("crm.timeline.comment.list", "crm", cost=0.05)
def comment_list(ctx: Ctx) -> Answer:
    table = ctx.portal.store.comments
    flt = ctx.param("filter")
    if not isinstance(flt, dict) or not flt:
        raise ApiError(400, "100", "Required fields are not provided")
    ids, total, nxt = list_page(ctx, table, flt, ctx.param("order"), lookup_upper(table))
    select = {str(s).upper() for s in as_list(ctx.param("select"))} - {"*"}
    rows = [{k: v for k, v in table.rows[i].items() if v is not None and (not select or k in select or k == "ID")}
            for i in ids]
    return Answer(rows, total, nxt)


@v2("crm.timeline.comment.update", "crm", cost=0.05, write=True)
def comment_update(ctx: Ctx) -> Answer:
    row = _comment(ctx)
    fields = ctx.param("fields")
    if not isinstance(fields, dict):
        raise ApiError(400, "100", "Required fields are not provided")
    comment = str({str(k).upper(): v for k, v in fields.items()}.get("COMMENT") or "").strip()
    if not comment:
        raise ApiError(400, "INVALID_ARG_VALUE", "Empty comment")
    ctx.portal.store.comments.update(int(row["ID"]), {"COMMENT": comment})
    ctx.wrote()
    return Answer(int(row["ID"]))


@v2("crm.timeline.comment.delete", "crm", cost=0.05, write=True)
def comment_delete(ctx: Ctx) -> Answer:
    row = _comment(ctx)
    ctx.portal.store.comments.delete(int(row["ID"]))
    ctx.wrote()
    return Answer(True)


# --- user.fields, department.fields / add / update / delete (user/user-fields.md, departments/*) -----------

@v2("user.fields", "user", cost=0.002)
def user_fields(ctx: Ctx) -> Answer:
    return Answer(dict(schema.USER_TITLES))


@v2("department.fields", "department", cost=0.002)
def department_fields(ctx: Ctx) -> Answer:
    return Answer(dict(schema.DEPARTMENT_TITLES))


DEPARTMENT_NOT_FOUND = ApiError(400, "ERROR_CORE", "Department not found")


def _department_values(table: Table, ctx: Ctx) -> dict[str, Any]:
    values = {}
    for field in table.fields:
        value = ctx.param(field.name)
        if value is not None and field.name != "ID":
            values[field.name] = schema.to_v2_value(field, value)
    parent = values.get("PARENT")
    if parent is not None and table.get(parent) is None:
        raise ApiError(400, "ERROR_CORE", "There can only be one top-level department in the company structure")
    return values


@v2("department.add", "department", cost=0.05, write=True)
def department_add(ctx: Ctx) -> Answer:
    table = ctx.portal.store.departments
    values = _department_values(table, ctx)
    if not values.get("NAME"):
        raise ApiError(400, "ERROR_CORE", "Department name not provided.<br>")
    if not values.get("PARENT"):
        raise ApiError(400, "ERROR_CORE", "There can only be one top-level department in the company structure")
    row_id = table.insert({"SORT": "500", **values})
    ctx.wrote()
    return Answer(row_id)


def _department(ctx: Ctx) -> dict[str, Any]:
    row = ctx.portal.store.departments.get(ctx.param("ID"))
    if row is None:
        raise DEPARTMENT_NOT_FOUND
    return row


@v2("department.update", "department", cost=0.05, write=True)
def department_update(ctx: Ctx) -> Answer:
    table = ctx.portal.store.departments
    row = _department(ctx)
    values = _department_values(table, ctx)
    if values.get("PARENT") == row["ID"]:
        raise ApiError(400, "ERROR_CORE", "There can only be one top-level department in the company structure")
    table.update(int(row["ID"]), values)
    ctx.wrote()
    return Answer(True)


@v2("department.delete", "department", cost=0.05, write=True)
def department_delete(ctx: Ctx) -> Answer:
    ctx.portal.store.departments.delete(int(_department(ctx)["ID"]))
    ctx.wrote()
    return Answer(True)


# --- im.notify.system.add (chats/notifications/im-notify-system-add.md): the answer only ----------------

@v2("im.notify.system.add", "im", cost=0.02, write=True)
def notify_system_add(ctx: Ctx) -> Answer:
    user_id = as_int(ctx.param("USER_ID"))
    if user_id is None or user_id <= 0:
        raise ApiError(400, "USER_ID_EMPTY", "User ID can't be empty")
    message = ctx.param("MESSAGE")
    if message is None or not str(message).strip():
        raise ApiError(400, "MESSAGE_EMPTY", "Message can't be empty")
    attach = ctx.param("ATTACH")
    if attach is not None and len(str(attach)) > 60_000:
        raise ApiError(400, "ATTACH_OVERSIZE", "You have exceeded the maximum allowable size of attach")
    ctx.wrote()
    return Answer(ctx.portal.store.notification_id())
