"""Built-in hints for the commonly used Bitrix24 REST methods: scope, a one-line description, a params template
per API version, and the page in the public REST docs.

Hand-written for the methods integrators reach for every day; everything else in the picker comes from the
connected portal (``methods``, ``scope``, the v3 OpenAPI document). ``v2``/``v3`` hold the params template of
that API version, or ``None`` when the method does not exist there.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

DOCS_ROOT = "https://apidocs.bitrix24.com/"


def doc_url(doc_path: str) -> str:
    """The public page of a docs path (``api-reference/crm/deals/crm-deal-list.md`` → its ``.html`` page)."""
    if not doc_path:
        return ""
    if doc_path.endswith(".md"):
        doc_path = doc_path[:-3] + ".html"
    return DOCS_ROOT + doc_path.lstrip("/")


@dataclass(frozen=True)
class MethodHint:
    """What the app knows of one common method without asking a portal."""

    name: str
    scope: str
    description: str
    v2: Any = None  # params template over REST v2, None when the method is not in v2
    v3: Any = None  # params template over REST v3, None when the method is not in v3
    doc: str = ""  # docs path of the v2 page (or the only page)
    doc_v3: str = ""  # docs path of the v3 page, when it differs

    @property
    def in_v2(self) -> bool:
        return self.v2 is not None

    @property
    def in_v3(self) -> bool:
        return self.v3 is not None

    def template(self, api: int = 2) -> Any:
        chosen = self.v3 if api == 3 else self.v2
        if chosen is None:
            chosen = self.v2 if self.v2 is not None else self.v3
        return chosen if chosen is not None else {}

    def doc_url(self, api: int = 2) -> str:
        return doc_url(self.doc_v3 if api == 3 and self.doc_v3 else self.doc or self.doc_v3)


_LIST = {"select": ["ID", "TITLE"], "filter": {">ID": 0}, "order": {"ID": "ASC"}, "start": 0}


def _crm(entity: str, plural: str, title_field: str, add_fields: dict[str, Any]) -> list[MethodHint]:
    base = f"api-reference/crm/{plural}/crm-{entity}"
    noun = {"deal": "deal", "lead": "lead", "contact": "contact", "company": "company"}[entity]
    list_select = ["ID", title_field]
    return [
        MethodHint(f"crm.{entity}.list", "crm", f"List {noun}s with filter, select, order and 50-per-page paging",
                   {**_LIST, "select": list_select}, doc=f"{base}-list.md"),
        MethodHint(f"crm.{entity}.get", "crm", f"One {noun} by id, with all its fields", {"id": 1},
                   doc=f"{base}-get.md"),
        MethodHint(f"crm.{entity}.add", "crm", f"Create a {noun}; returns the new id",
                   {"fields": add_fields, "params": {"REGISTER_SONET_EVENT": "N"}}, doc=f"{base}-add.md"),
        MethodHint(f"crm.{entity}.update", "crm", f"Change fields of a {noun}",
                   {"id": 1, "fields": {title_field: "New value"}}, doc=f"{base}-update.md"),
        MethodHint(f"crm.{entity}.delete", "crm", f"Delete a {noun}", {"id": 1}, doc=f"{base}-delete.md"),
        MethodHint(f"crm.{entity}.fields", "crm", f"Describe every {noun} field: type, title, flags", {},
                   doc=f"{base}-fields.md"),
    ]


_ITEM = "api-reference/crm/universal/crm-item"
_TASK = "api-reference/tasks/tasks-task"
_SYS = "api-reference/common/system"

HINTS: tuple[MethodHint, ...] = (
    # --- basic / system
    MethodHint("server.time", "basic", "The portal's current time (a cheap connectivity check)", {},
               doc=f"{_SYS}/server-time.md"),
    MethodHint("profile", "basic", "Who the webhook acts as: id, name, admin flag", {},
               doc="api-reference/common/users/profile.md"),
    MethodHint("methods", "basic", "Names of the REST methods this webhook may call", {"full": False},
               doc=f"{_SYS}/methods.md"),
    MethodHint("scope", "basic", "Scopes (permissions) granted to this webhook", {"full": False},
               doc=f"{_SYS}/scope.md"),
    MethodHint("method.get", "basic", "Whether a method exists and is available to this webhook",
               {"name": "crm.deal.list"}, doc=f"{_SYS}/method-get.md"),
    MethodHint("app.info", "basic", "The calling application, or through a webhook its scopes and the plan", {},
               doc=f"{_SYS}/app-info.md"),
    MethodHint("feature.get", "basic", "Whether a portal feature is enabled", {"CODE": "rest_offline_extended"},
               doc=f"{_SYS}/feature-get.md"),
    MethodHint("batch", "basic", "Up to 50 calls in one request, with $result[...] references between them",
               {"halt": 0, "cmd": {"a": "crm.deal.get?id=1", "b": "crm.deal.list?filter[>ID]=$result[a][ID]"}},
               doc="settings/how-to-call-rest-api/batch.md"),
    # --- CRM: universal items
    MethodHint("crm.item.list", "crm", "List items of any CRM entity type (entityTypeId 1 lead, 2 deal, 3 contact, "
               "4 company, smart processes)",
               {"entityTypeId": 2, "select": ["id", "title"], "filter": {">id": 0}, "order": {"id": "ASC"},
                "start": 0}, doc=f"{_ITEM}-list.md"),
    MethodHint("crm.item.get", "crm", "One item of a CRM entity type by id", {"entityTypeId": 2, "id": 1},
               doc=f"{_ITEM}-get.md"),
    MethodHint("crm.item.add", "crm", "Create an item of a CRM entity type",
               {"entityTypeId": 2, "fields": {"title": "New item"}}, doc=f"{_ITEM}-add.md"),
    MethodHint("crm.item.update", "crm", "Change fields of a CRM item",
               {"entityTypeId": 2, "id": 1, "fields": {"title": "Renamed"}}, doc=f"{_ITEM}-update.md"),
    MethodHint("crm.item.delete", "crm", "Delete a CRM item", {"entityTypeId": 2, "id": 1},
               doc=f"{_ITEM}-delete.md"),
    MethodHint("crm.item.fields", "crm", "Describe the fields of a CRM entity type", {"entityTypeId": 2},
               doc=f"{_ITEM}-fields.md"),
    # --- CRM: classic entities
    *_crm("deal", "deals", "TITLE", {"TITLE": "New deal", "STAGE_ID": "NEW", "OPPORTUNITY": 1000,
                                      "CURRENCY_ID": "USD"}),
    *_crm("lead", "leads", "TITLE", {"TITLE": "New lead", "NAME": "Ann"}),
    *_crm("contact", "contacts", "NAME", {"NAME": "Ann", "LAST_NAME": "Smith"}),
    *_crm("company", "companies", "TITLE", {"TITLE": "New company"}),
    MethodHint("crm.activity.list", "crm", "List CRM activities (calls, e-mails, meetings, to-dos)",
               {"select": ["ID", "SUBJECT"], "filter": {"OWNER_TYPE_ID": 2, "OWNER_ID": 1}, "order": {"ID": "ASC"}},
               doc="api-reference/crm/timeline/activities/activity-base/crm-activity-list.md"),
    MethodHint("crm.status.list", "crm", "Reference lists: deal stages, lead statuses, sources",
               {"filter": {"ENTITY_ID": "DEAL_STAGE"}, "order": {"SORT": "ASC"}},
               doc="api-reference/crm/status/crm-status-list.md"),
    MethodHint("crm.category.list", "crm", "Pipelines (categories) of a CRM entity type", {"entityTypeId": 2},
               doc="api-reference/crm/universal/category/crm-category-list.md"),
    MethodHint("crm.timeline.comment.add", "crm", "Add a comment to an item's timeline",
               {"fields": {"ENTITY_ID": 1, "ENTITY_TYPE": "deal", "COMMENT": "Called the client"}},
               doc="api-reference/crm/timeline/comments/crm-timeline-comment-add.md"),
    # --- tasks (v2 and v3 share names, not params)
    MethodHint("tasks.task.list", "task", "List tasks with filter, select, order and paging",
               {"select": ["ID", "TITLE", "STATUS"], "filter": {">ID": 0}, "order": {"ID": "asc"}, "start": 0},
               {"select": ["id", "title"], "filter": [["id", ">", 0]], "order": {"id": "asc"},
                "pagination": {"page": 1, "limit": 50}},
               doc=f"{_TASK}-list.md", doc_v3=f"{_TASK}-list-rest-v3.md"),
    MethodHint("tasks.task.get", "task", "One task by id",
               {"taskId": 1, "select": ["ID", "TITLE"]}, {"id": 1, "select": ["id", "title"]},
               doc=f"{_TASK}-get.md", doc_v3=f"{_TASK}-get-rest-v3.md"),
    MethodHint("tasks.task.add", "task", "Create a task",
               {"fields": {"TITLE": "New task", "RESPONSIBLE_ID": 1}},
               {"fields": {"title": "New task", "creatorId": 1, "responsibleId": 1}},
               doc=f"{_TASK}-add.md", doc_v3=f"{_TASK}-add-rest-v3.md"),
    MethodHint("tasks.task.update", "task", "Change fields of a task",
               {"taskId": 1, "fields": {"TITLE": "Renamed"}}, {"id": 1, "fields": {"title": "Renamed"}},
               doc=f"{_TASK}-update.md", doc_v3=f"{_TASK}-update-rest-v3.md"),
    MethodHint("tasks.task.delete", "task", "Delete a task", {"taskId": 1}, {"id": 1},
               doc=f"{_TASK}-delete.md", doc_v3=f"{_TASK}-delete-rest-v3.md"),
    MethodHint("tasks.task.complete", "task", "Mark a task as completed", {"taskId": 1},
               doc="api-reference/tasks/status/tasks-task-complete.md"),
    MethodHint("tasks.task.result.list", "task", "Results (final reports) recorded on a task", {"taskId": 1},
               {"filter": [["taskId", "=", 1]], "select": ["id", "text"], "pagination": {"page": 1, "limit": 50}},
               doc="api-reference/tasks/result/tasks-task-result-list.md",
               doc_v3="api-reference/tasks/result/tasks-task-result-list-rest-v3.md"),
    # --- users and departments
    MethodHint("user.current", "user", "The user the webhook acts as, with profile fields", {},
               doc="api-reference/user/user-current.md"),
    MethodHint("user.get", "user", "Users by filter (active employees, a department, an e-mail …)",
               {"FILTER": {"ACTIVE": True}, "sort": "ID", "order": "ASC", "start": 0},
               doc="api-reference/user/user-get.md"),
    MethodHint("user.search", "user", "Find users by name, e-mail or department",
               {"FILTER": {"FIND": "Smith"}}, doc="api-reference/user/user-search.md"),
    MethodHint("user.fields", "user", "Describe the user fields", {}, doc="api-reference/user/user-fields.md"),
    MethodHint("department.get", "department", "Departments of the company structure",
               {"sort": "ID", "order": "ASC"}, doc="api-reference/departments/department-get.md"),
    MethodHint("department.add", "department", "Create a department",
               {"NAME": "New department", "PARENT": 1}, doc="api-reference/departments/department-add.md"),
    MethodHint("department.fields", "department", "Describe the department fields", {},
               doc="api-reference/departments/department-fields.md"),
    # --- chats and notifications
    MethodHint("im.message.add", "im", "Send a chat message to a user or a chat",
               {"DIALOG_ID": "chat1", "MESSAGE": "Hello from the REST API"},
               doc="api-reference/chats/messages/im-message-add.md"),
    MethodHint("im.notify.system.add", "im", "Send a system notification to a user",
               {"USER_ID": 1, "MESSAGE": "Report is ready"},
               doc="api-reference/chats/notifications/im-notify-system-add.md"),
    MethodHint("im.chat.add", "im", "Create a group chat",
               {"TYPE": "CHAT", "TITLE": "Project chat", "USERS": [1]}, doc="api-reference/chats/im-chat-add.md"),
    MethodHint("im.dialog.get", "im", "Information about a chat or a one-to-one dialog", {"DIALOG_ID": "chat1"},
               doc="api-reference/chats/im-dialog-get.md"),
    MethodHint("im.recent.get", "im", "The user's recent chats list", {"SKIP_OPENLINES": "Y"},
               doc="api-reference/chats/im-recent-get.md"),
    # --- disk
    MethodHint("disk.storage.getlist", "disk", "Storages available to the user (personal, group, common)",
               {"filter": {"ENTITY_TYPE": "user"}}, doc="api-reference/disk/storage/disk-storage-get-list.md"),
    MethodHint("disk.storage.getchildren", "disk", "Files and folders at the root of a storage", {"id": 1},
               doc="api-reference/disk/storage/disk-storage-get-children.md"),
    MethodHint("disk.folder.getchildren", "disk", "Files and folders inside a folder", {"id": 1},
               doc="api-reference/disk/folder/disk-folder-get-children.md"),
    MethodHint("disk.file.get", "disk", "A file's metadata and download URL", {"id": 1},
               doc="api-reference/disk/file/disk-file-get.md"),
    MethodHint("disk.folder.uploadfile", "disk", "Upload a file into a folder (content as base64)",
               {"id": 1, "data": {"NAME": "report.txt"}, "fileContent": ["report.txt", "SGVsbG8="]},
               doc="api-reference/disk/folder/disk-folder-upload-file.md"),
    # --- events
    MethodHint("event.get", "basic", "Event handlers registered by this application", {},
               doc="api-reference/events/event-get.md"),
    MethodHint("event.bind", "basic", "Register a handler URL for a portal event",
               {"event": "ONCRMDEALADD", "handler": "https://example.com/handler"},
               doc="api-reference/events/event-bind.md"),
    # --- REST v3 only
    MethodHint("main.eventlog.list", "main", "Security event log records, with filter and page paging (v3)",
               None, {"select": ["id", "timestamp", "type"], "filter": [["id", ">", 0]], "order": {"id": "asc"},
                      "pagination": {"page": 1, "limit": 50}},
               doc="api-reference/event-log/main-eventlog-list.md"),
    MethodHint("main.eventlog.get", "main", "One event log record by id (v3)", None, {"id": 1},
               doc="api-reference/event-log/main-eventlog-get.md"),
    MethodHint("main.eventlog.tail", "main", "Event log records after a cursor: native keyset paging (v3)", None,
               {"select": ["id", "type"], "cursor": {"field": "id", "value": 0, "order": "ASC", "limit": 50}},
               doc="api-reference/event-log/main-eventlog-tail.md"),
    MethodHint("main.eventlog.field.list", "main", "Describe the event log fields (v3)", None, {},
               doc="api-reference/event-log/main-eventlog-field-list.md"),
    MethodHint("humanresources.node.list", "humanresources", "Company structure nodes: departments and teams (v3)",
               None, {"type": "DEPARTMENT", "pagination": {"page": 1, "limit": 50}},
               doc="api-reference/departments/node/humanresources-node-list.md"),
    MethodHint("humanresources.employee.search", "humanresources", "Find employees in the structure (v3)", None,
               {"name": "Smith"}, doc="api-reference/departments/employee/humanresources-employee-search.md"),
    MethodHint("timeman.record.list", "timeman", "Work time records of employees (v3)", None,
               {"filter": [["userId", "=", 1]], "pagination": {"page": 1, "limit": 50}},
               doc="api-reference/timeman/record/timeman-record-list.md"),
    MethodHint("mail.mailbox.list", "mail", "Mailboxes connected by the user (v3)", None,
               {"pagination": {"page": 1, "limit": 50}}, doc="api-reference/mail/mailbox/mail-mailbox-list.md"),
    MethodHint("call.followup.list", "call", "Call follow-ups (summaries after calls) (v3)", None,
               {"filter": [["id", ">", 0]], "pagination": {"page": 1, "limit": 50}},
               doc="api-reference/telephony/follow-up/call-followup-list.md"),
    MethodHint("note.document.get", "note", "One note document by id (v3)", None, {"id": 1},
               doc="api-reference/note/document/note-document-get.md"),
    MethodHint("rest.documentation.openapi", "basic", "The portal's REST v3 methods as an OpenAPI document (v3)",
               None, {}),
)

HINTS_BY_NAME: dict[str, MethodHint] = {h.name: h for h in HINTS}


def hint(name: str) -> MethodHint | None:
    return HINTS_BY_NAME.get(name.lower())


def template_text(method: str, api: int = 2) -> str:
    """The params template of a method as editor text (``{}`` for a method without a hint)."""
    found = hint(method)
    return json.dumps(found.template(api) if found else {}, ensure_ascii=False, indent=2)
