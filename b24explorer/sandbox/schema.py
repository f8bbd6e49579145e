"""Field descriptions of the sandbox's entities, and the renderings a real portal uses for them.

Rows are stored once, in the classic REST v2 form (UPPER_CASE keys, string values, "Y"/"N" booleans),
because that is what most traffic asks for; `crm.item.*`, `tasks.task.*` and REST v3 render from it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

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


_COMMON_TAIL = [
    F("ASSIGNED_BY_ID", "user", "Responsible"),
    F("CREATED_BY_ID", "user", "Created by", read_only=True),
    F("MODIFY_BY_ID", "user", "Modified by", read_only=True),
    F("DATE_CREATE", "datetime", "Created on", read_only=True),
    F("DATE_MODIFY", "datetime", "Modified on", read_only=True),
    F("OPENED", "char", "Available to everyone"),
    F("COMMENTS", "string", "Comment"),
    F("SOURCE_ID", "crm_status", "Source", status_type="SOURCE"),
]

DEAL_FIELDS = [
    F("ID", "integer", "ID", read_only=True),
    F("TITLE", "string", "Name"),
    F("TYPE_ID", "crm_status", "Type", status_type="DEAL_TYPE"),
    F("CATEGORY_ID", "crm_category", "Pipeline", immutable=True),
    F("STAGE_ID", "crm_status", "Deal stage", status_type="DEAL_STAGE"),
    F("STAGE_SEMANTIC_ID", "string", "Stage group", read_only=True),
    F("IS_NEW", "char", "New deal", read_only=True),
    F("PROBABILITY", "integer", "Probability"),
    F("CURRENCY_ID", "crm_currency", "Currency"),
    F("OPPORTUNITY", "double", "Amount"),
    F("IS_MANUAL_OPPORTUNITY", "char", "Manual amount"),
    F("COMPANY_ID", "crm_company", "Company"),
    F("CONTACT_ID", "crm_contact", "Contact"),
    F("LEAD_ID", "crm_lead", "Lead", read_only=True),
    F("BEGINDATE", "date", "Start date"),
    F("CLOSEDATE", "date", "End date"),
    F("CLOSED", "char", "Closed"),
    *_COMMON_TAIL,
]

LEAD_FIELDS = [
    F("ID", "integer", "ID", read_only=True),
    F("TITLE", "string", "Lead name"),
    F("NAME", "string", "First name"),
    F("LAST_NAME", "string", "Last name"),
    F("STATUS_ID", "crm_status", "Stage", status_type="STATUS"),
    F("CURRENCY_ID", "crm_currency", "Currency"),
    F("OPPORTUNITY", "double", "Amount"),
    F("COMPANY_TITLE", "string", "Company name"),
    F("CONTACT_ID", "crm_contact", "Contact"),
    *_COMMON_TAIL,
]

CONTACT_FIELDS = [
    F("ID", "integer", "ID", read_only=True),
    F("NAME", "string", "First name"),
    F("LAST_NAME", "string", "Last name"),
    F("POST", "string", "Position"),
    F("TYPE_ID", "crm_status", "Contact type", status_type="CONTACT_TYPE"),
    F("COMPANY_ID", "crm_company", "Company"),
    F("EXPORT", "char", "Included in export"),
    *_COMMON_TAIL,
]

COMPANY_FIELDS = [
    F("ID", "integer", "ID", read_only=True),
    F("TITLE", "string", "Company name", required=True),
    F("COMPANY_TYPE", "crm_status", "Company type", status_type="COMPANY_TYPE"),
    F("INDUSTRY", "crm_status", "Industry", status_type="INDUSTRY"),
    F("EMPLOYEES", "crm_status", "Employees", status_type="EMPLOYEES"),
    F("REVENUE", "double", "Annual revenue"),
    F("CURRENCY_ID", "crm_currency", "Currency"),
    *_COMMON_TAIL,
]

USER_FIELDS = [
    F("ID", "integer", "ID", read_only=True),
    F("ACTIVE", "boolean", "Active"),
    F("NAME", "string", "First name"),
    F("LAST_NAME", "string", "Last name"),
    F("EMAIL", "string", "E-mail"),
    F("WORK_POSITION", "string", "Position"),
    F("PERSONAL_GENDER", "string", "Gender"),
    F("UF_DEPARTMENT", "department", "Departments", multiple=True),
    F("DATE_REGISTER", "datetime", "Registered on"),
    F("IS_ONLINE", "char", "Online"),
    F("TIME_ZONE", "string", "Time zone"),
]

DEPARTMENT_FIELDS = [
    F("ID", "integer", "ID", read_only=True),
    F("NAME", "string", "Name"),
    F("SORT", "integer", "Sort"),
    F("PARENT", "department", "Parent department"),
    F("UF_HEAD", "user", "Head"),
]

TASK_FIELDS = [
    F("ID", "integer", "ID", read_only=True),
    F("TITLE", "string", "Title", required=True),
    F("DESCRIPTION", "string", "Description"),
    F("STATUS", "integer", "Status"),
    F("PRIORITY", "integer", "Priority"),
    F("RESPONSIBLE_ID", "user", "Assignee", required=True),
    F("CREATED_BY", "user", "Created by", required=True),
    F("GROUP_ID", "group", "Project"),
    F("DEADLINE", "datetime", "Deadline"),
    F("CREATED_DATE", "datetime", "Created on", read_only=True),
    F("CHANGED_DATE", "datetime", "Modified on", read_only=True),
    F("CLOSED_DATE", "datetime", "Completed on", read_only=True),
]

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
