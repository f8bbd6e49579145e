"""Field descriptions of the sandbox's entities, and the renderings a real portal uses for them.

Rows are stored once, in the classic REST v2 form (UPPER_CASE keys, string values, "Y"/"N" booleans),
because that is what most traffic asks for; `crm.item.*`, `tasks.task.*` and REST v3 render from it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from .docs_fields import FACTS

INT_TYPES = frozenset(
    {"integer", "user", "crm_company", "crm_contact", "crm_lead", "crm_category", "crm_quote", "group", "department"}
)


@dataclass(frozen=True)
class Field:
    name: str
    type: str = "string"
    title: str = ""
    read_only: bool = False
    required: bool = False
    multiple: bool = False
    immutable: bool = False
    status_type: str | None = None

    @property
    def camel(self) -> str:
        return camel_case(self.name)

    @property
    def numeric(self) -> bool:
        return self.type in INT_TYPES or self.type == "double"


# crm.item.* names the classic CRM fields its own way where camelCase of the classic name would differ
# (api-reference/crm/universal/crm-item-fields.md).
ITEM_NAMES = {"DATE_CREATE": "createdTime", "DATE_MODIFY": "updatedTime", "CREATED_BY_ID": "createdBy",
              "MODIFY_BY_ID": "updatedBy", "BEGINDATE": "begindate", "CLOSEDATE": "closedate"}


def item_name(field: Field) -> str:
    """The field's name in crm.item.* answers and parameters."""
    return ITEM_NAMES.get(field.name) or field.camel


def camel_case(upper: str) -> str:
    """`ASSIGNED_BY_ID` -> `assignedById`."""
    parts = upper.lower().split("_")
    return parts[0] + "".join(p[:1].upper() + p[1:] for p in parts[1:])


def F(name: str, type_: str = "string", title: str = "", **kw: Any) -> Field:
    return Field(name, type_, title or name.replace("_", " ").title(), **kw)


def _get_only(entity: str) -> list[str]:
    """Keys the docs' crm.<entity>.get example answers that crm.<entity>.fields does not list (FACE_ID…)."""
    listed = {row[0] for row in FACTS["crm"][entity]}
    return [k for k in FACTS["answers_v2"].get(f"crm.{entity}.get", {}).get("keys", []) if k not in listed]


def _crm(entity: str) -> list[Field]:
    """A CRM entity's standard fields as the docs list them (docs_fields.py, made by scripts/gen_sandbox_fields.py)."""
    return [Field(name, type_, title, read_only="O" in flags, required="R" in flags, multiple="M" in flags,
                  immutable="I" in flags, status_type=status)
            for name, type_, title, flags, status in FACTS["crm"][entity]]


DEAL_FIELDS = _crm("deal")
LEAD_FIELDS = _crm("lead")
CONTACT_FIELDS = _crm("contact")
COMPANY_FIELDS = _crm("company")

# user.fields names and titles only; the types are those of user.get's answers (user-get.md)
_USER_TYPES = {"ID": "integer", "ACTIVE": "boolean", "UF_DEPARTMENT": "department", "LAST_LOGIN": "datetime",
               "DATE_REGISTER": "datetime", "PERSONAL_BIRTHDAY": "date", "UF_EMPLOYMENT_DATE": "date"}
USER_FIELDS = [Field(name, _USER_TYPES.get(name, "string"), title, read_only=name == "ID",
                     multiple=name == "UF_DEPARTMENT") for name, title in FACTS["user"]]
USER_TITLES = {name: title for name, title in FACTS["user"]}

_DEPARTMENT_TYPES = {"ID": "integer", "SORT": "integer", "PARENT": "department", "UF_HEAD": "user"}
DEPARTMENT_FIELDS = [Field(name, _DEPARTMENT_TYPES.get(name, "string"), title, read_only=name == "ID")
                     for name, title in FACTS["department"]]
DEPARTMENT_TITLES = {name: title for name, title in FACTS["department"]}

# tasks.task.getFields gives type, title, required flag, default and enum values; the dates the portal stamps
# itself cannot be written.
_TASK_READ_ONLY = {"ID", "CREATED_DATE", "CHANGED_DATE", "CLOSED_DATE", "CHANGED_BY", "CLOSED_BY",
                   "STATUS_CHANGED_BY", "STATUS_CHANGED_DATE", "ACTIVITY_DATE", "COMMENTS_COUNT",
                   "SERVICE_COMMENTS_COUNT", "NEW_COMMENTS_COUNT"}
# the sandbox's own types where it needs more than the docs' type: users and groups are ids, and STATUS and
# PRIORITY are numeric codes (the v3 rendering answers them as integers)
_TASK_USER_FIELDS = {"CREATED_BY": "user", "RESPONSIBLE_ID": "user", "CHANGED_BY": "user", "CLOSED_BY": "user",
                     "STATUS_CHANGED_BY": "user", "GROUP_ID": "group", "STATUS": "integer", "PRIORITY": "integer"}
TASK_FIELDS = [Field(name, _TASK_USER_FIELDS.get(name, type_), title or name, read_only=name in _TASK_READ_ONLY,
                     required=required, multiple=type_ == "array")
               for name, type_, title, required, _default, _values in FACTS["task"]]
TASK_DEFAULTS = {name: default for name, _t, _ti, _r, default, _v in FACTS["task"] if default is not None}
TASK_GETFIELDS = {name: {k: v for k, v in (("title", title or None), ("type", type_), ("required", required or None),
                                           ("default", default), ("values", values)) if v is not None}
                  for name, type_, title, required, default, values in FACTS["task"]}

STATUS_FIELDS = [
    F("ID", "integer", "ID", read_only=True), F("ENTITY_ID", "string", "Entity"), F("STATUS_ID", "string", "Status"),
    F("NAME", "string", "Name"), F("NAME_INIT", "string", "Initial name"), F("SORT", "integer", "Sort"),
    F("SYSTEM", "char", "System"), F("CATEGORY_ID", "integer", "Pipeline"), F("COLOR", "string", "Color"),
    F("SEMANTICS", "string", "Semantics"), F("EXTRA", "object", "Extra"),
]

COMMENT_FIELDS = [
    F("ID", "integer", "ID", read_only=True), F("CREATED", "datetime", "Created on", read_only=True),
    F("ENTITY_ID", "integer", "Entity ID", required=True, immutable=True),
    F("ENTITY_TYPE", "string", "Entity type", required=True, immutable=True),
    F("AUTHOR_ID", "user", "Author", read_only=True), F("COMMENT", "string", "Comment", required=True),
    F("FILES", "attached_diskfile", "Files", multiple=True),
]


def blank_crm(entity: str, fields: list[Field]) -> dict[str, Any]:
    """A new CRM row: null where nothing was set, "N" for Y/N flags, and no multi-fields (PHONE, EMAIL…)
    until they have values (crm-deal-get.md, crm-contact-get.md)."""
    blank: dict[str, Any] = {f.name: ("N" if f.type == "char" else None) for f in fields if f.type != "crm_multifield"}
    blank.update({name: None for name in _get_only(entity)})
    return blank


def blank_user() -> dict[str, Any]:
    """A new user: "" for empty text, as user.get answers (user-current.md)."""
    return {f.name: "" for f in USER_FIELDS if f.type in ("string", "date", "datetime")}


def blank_task() -> dict[str, Any]:
    """A new task: tasks.task.getFields' defaults, as the v2 strings a portal returns."""
    out: dict[str, Any] = {f.name: None for f in TASK_FIELDS}
    out.update({name: str(value) for name, value in TASK_DEFAULTS.items()})
    return out


def multifield(field: Field, value: Any) -> dict[str, str]:
    """One PHONE/EMAIL/WEB/IM value as a portal stores it: {VALUE_TYPE, VALUE, TYPE_ID} (the ID is the store's)."""
    data = {str(k).upper(): v for k, v in value.items()} if isinstance(value, dict) else {"VALUE": value}
    out = {"VALUE_TYPE": str(data.get("VALUE_TYPE") or "WORK"), "VALUE": str(data.get("VALUE") or ""),
           "TYPE_ID": field.name}
    if data.get("ID") not in (None, ""):
        out = {"ID": str(data["ID"]), **out}
    return out


EVENTLOG_FIELDS = [
    F("ID", "integer", "ID", read_only=True),
    F("TIMESTAMP_X", "datetime", "Time", read_only=True),
    F("SEVERITY", "string", "Severity", read_only=True),
    F("AUDIT_TYPE_ID", "string", "Event type", read_only=True),
    F("MODULE_ID", "string", "Module", read_only=True),
    F("ITEM_ID", "string", "Object", read_only=True),
    F("REMOTE_ADDR", "string", "IP address", read_only=True),
    F("USER_AGENT", "string", "User agent", read_only=True),
    F("REQUEST_URI", "string", "Request URI", read_only=True),
    F("SITE_ID", "string", "Site", read_only=True),
    F("USER_ID", "user", "User", read_only=True),
    F("DESCRIPTION", "string", "Description", read_only=True),
]


def to_v2_value(field: Field, value: Any) -> Any:
    """Normalise an incoming value to how a v2 portal stores and returns it (strings, Y/N)."""
    if value is None:
        return None
    if field.type == "crm_multifield":
        items = value if isinstance(value, list) else list(value.values()) if isinstance(value, dict) and \
            not {"VALUE", "value"} & set(value) else [value]
        return [multifield(field, v) for v in items]
    if field.multiple:
        items = value if isinstance(value, list) else [value]
        return [to_v2_value(Field(field.name, field.type), v) for v in items]
    if field.type == "char":
        if isinstance(value, bool):
            return "Y" if value else "N"
        text = str(value).strip().upper()
        return "Y" if text in {"Y", "1", "TRUE"} else "N"
    if field.type == "boolean":
        if isinstance(value, bool):
            return value
        return str(value).strip().upper() in {"Y", "1", "TRUE"}
    if field.type in INT_TYPES:
        if isinstance(value, bool):
            return str(int(value))
        try:
            return str(int(float(str(value).strip() or 0)))
        except ValueError:
            return str(value)
    if field.type == "double":
        try:
            return f"{float(str(value).strip() or 0):.2f}"
        except ValueError:
            return str(value)
    if isinstance(value, (dict, list)):
        return value
    return str(value)


def to_native(field: Field, value: Any, bool_style: str = "yn") -> Any:
    """A stored v2 value as JSON-typed data (crm.item / REST v3)."""
    if value is None:
        return None
    if field.multiple and isinstance(value, list):
        return [to_native(Field(field.name, field.type), v, bool_style) for v in value]
    if field.type in INT_TYPES:
        try:
            return int(value)
        except (TypeError, ValueError):
            return None
    if field.type == "double":
        try:
            return float(value)
        except (TypeError, ValueError):
            return None
    if field.type == "char":
        return (value == "Y") if bool_style == "bool" else value
    return value


def descriptor(field: Field, *, with_upper_name: bool = False) -> dict[str, Any]:
    out: dict[str, Any] = {
        "type": field.type,
        "isRequired": field.required,
        "isReadOnly": field.read_only,
        "isImmutable": field.immutable,
        "isMultiple": field.multiple,
        "isDynamic": False,
        "title": field.title,
    }
    if field.status_type:
        out["statusType"] = field.status_type
    if with_upper_name:
        out["upperName"] = field.name
    return out
