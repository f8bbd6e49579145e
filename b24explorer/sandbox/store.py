"""The sandbox portal's data: seeded, deterministic tables indexed by id."""

from __future__ import annotations

import bisect
import datetime as dt
import json
import random
import time
from collections.abc import Callable, Iterator
from typing import Any

from . import schema
from .schema import Field

PORTAL_TZ = dt.timezone(dt.timedelta(hours=3))
_HISTORY_DAYS = 700  # seeded rows were created within this many days before the sandbox's "today"


def iso(moment: dt.datetime) -> str:
    return moment.astimezone(PORTAL_TZ).isoformat(timespec="seconds")


class RawJSON:
    """Data with its JSON text already made: answers embed the text instead of encoding the data again."""

    __slots__ = ("data", "text")

    def __init__(self, data: Any) -> None:
        self.data = data
        self.text = json.dumps(data, separators=(",", ":"))


def encode(obj: Any) -> str:
    """json.dumps that splices in RawJSON texts; only the outer containers are walked in Python."""
    if isinstance(obj, RawJSON):
        return obj.text
    if isinstance(obj, dict):
        return "{" + ",".join(json.dumps(str(k)) + ":" + encode(v) for k, v in obj.items()) + "}"
    if isinstance(obj, list) and obj and isinstance(obj[0], (RawJSON, list)):  # pages, or a batch's list of them
        return "[" + ",".join(v.text if isinstance(v, RawJSON) else encode(v) for v in obj) + "]"
    try:
        return json.dumps(obj, separators=(",", ":"))
    except TypeError:
        if not isinstance(obj, list):
            raise
        # a RawJSON further in (a batch's results: a profile, then a stored row)
        return "[" + ",".join(encode(v) for v in obj) + "]"


class Table:
    """Rows keyed by integer id, with a sorted id index so `>ID` windows are a bisect away."""

    def __init__(self, name: str, fields: list[Field], store: Store, blank: dict[str, Any] | None = None) -> None:
        self.name = name
        self.fields = fields
        # what a new row holds before its values are set: every documented field is present
        self.blank = blank if blank is not None else {f.name: None for f in fields}
        self.by_name = {f.name: f for f in fields}
        self.by_camel = {f.camel: f for f in fields}
        self.by_item = {schema.item_name(f): f for f in fields}
        self.rows: dict[int, dict[str, Any]] = {}
        self.ids: list[int] = []
        self.next_id = 1
        self.version = 0
        self._store = store
        self._encoded: dict[int, RawJSON] = {}

    def __len__(self) -> int:
        return len(self.rows)

    def __iter__(self) -> Iterator[dict[str, Any]]:
        rows = self.rows
        return (rows[i] for i in self.ids)

    def raw(self, row_id: int) -> RawJSON:
        """The row with its JSON text encoded once and cached until the row changes."""
        cached = self._encoded.get(row_id)
        if cached is None:
            cached = self._encoded[row_id] = RawJSON(self.rows[row_id])
        return cached

    def get(self, row_id: Any) -> dict[str, Any] | None:
        try:
            return self.rows.get(int(row_id))
        except (TypeError, ValueError):
            return None

    def insert(self, row: dict[str, Any]) -> int:
        row_id = self.next_id
        self.next_id += 1
        fresh: dict[str, Any] = {"ID": ""}
        fresh.update(self.blank)
        fresh.update(row)
        fresh["ID"] = str(row_id)
        self.rows[row_id] = fresh
        if not self.ids or self.ids[-1] < row_id:
            self.ids.append(row_id)
        else:
            bisect.insort(self.ids, row_id)
        self.version += 1
        self._store.journal_undo(lambda: self._remove(row_id))
        return row_id

    def update(self, row_id: int, changes: dict[str, Any]) -> None:
        row = self.rows[row_id]
        before = dict(row)
        new_row = dict(row)
        new_row.update(changes)
        self.rows[row_id] = new_row  # replaced, not mutated: answers being serialised keep their snapshot
        self._encoded.pop(row_id, None)
        self.version += 1

        def undo() -> None:
            self.rows[row_id] = before
            self._encoded.pop(row_id, None)
            self.version += 1

        self._store.journal_undo(undo)

    def delete(self, row_id: int) -> None:
        row = self.rows[row_id]
        self._remove(row_id)

        def undo() -> None:
            self.rows[row_id] = row
            bisect.insort(self.ids, row_id)
            self.version += 1

        self._store.journal_undo(undo)

    def _remove(self, row_id: int) -> None:
        del self.rows[row_id]
        self._encoded.pop(row_id, None)
        idx = bisect.bisect_left(self.ids, row_id)
        if idx < len(self.ids) and self.ids[idx] == row_id:
            del self.ids[idx]
        self.version += 1


class Store:
    """Every table of the portal. Writes can run inside a transaction (REST v3 batch is all-or-nothing)."""

    def __init__(self) -> None:
        self._journal: list[Callable[[], None]] | None = None
        self._multifield_ids = 0
        self._product_row_ids = 0
        self._relations_version = 0
        # relations of one row to others: (entity, id, "contact" | "company" | "productrows") -> rows
        self.links: dict[tuple[str, int, str], list[dict[str, Any]]] = {}
        self.users = Table("user", schema.USER_FIELDS, self, schema.blank_user())
        self.departments = Table("department", schema.DEPARTMENT_FIELDS, self)
        self.leads = Table("lead", schema.LEAD_FIELDS, self, schema.blank_crm("lead", schema.LEAD_FIELDS))
        self.contacts = Table("contact", schema.CONTACT_FIELDS, self, schema.blank_crm("contact", schema.CONTACT_FIELDS))
        self.companies = Table("company", schema.COMPANY_FIELDS, self, schema.blank_crm("company", schema.COMPANY_FIELDS))
        self.deals = Table("deal", schema.DEAL_FIELDS, self, schema.blank_crm("deal", schema.DEAL_FIELDS))
        self.tasks = Table("task", schema.TASK_FIELDS, self, schema.blank_task())
        self.eventlog = Table("eventlog", schema.EVENTLOG_FIELDS, self)
        self.statuses = Table("status", schema.STATUS_FIELDS, self)
        self.comments = Table("timeline_comment", schema.COMMENT_FIELDS, self)
        self._notifications = 0

    def multifield_id(self) -> str:
        """The next id of a PHONE/EMAIL/WEB/IM value (one sequence across the CRM, as on a portal)."""
        self._multifield_ids += 1
        return str(self._multifield_ids)

    def notification_id(self) -> int:
        self._notifications += 1
        return self._notifications

    def product_row_id(self) -> str:
        self._product_row_ids += 1
        return str(self._product_row_ids)

    def set_links(self, key: tuple[str, int, str], rows: list[dict[str, Any]]) -> None:
        self.links[key] = rows
        self._relations_version += 1

    @property
    def version(self) -> int:
        """Grows with every write to any table (a cheap "has anything changed" check)."""
        return sum(table.version for table in self._tables()) + self._relations_version

    def _tables(self) -> tuple[Table, ...]:
        return (self.users, self.departments, self.leads, self.contacts, self.companies, self.deals,
                self.tasks, self.eventlog, self.statuses, self.comments)

    @property
    def crm(self) -> dict[int, Table]:
        """CRM tables by entityTypeId."""
        return {1: self.leads, 2: self.deals, 3: self.contacts, 4: self.companies}

    def journal_undo(self, undo: Callable[[], None]) -> None:
        if self._journal is not None:
            self._journal.append(undo)

    def begin(self) -> None:
        self._journal = []

    def commit(self) -> None:
        self._journal = None

    def rollback(self) -> None:
        journal, self._journal = self._journal or [], None
        for undo in reversed(journal):
            undo()


# --- seeding ---------------------------------------------------------------------------------------

_FIRST = ["Anna", "Boris", "Clara", "Dmitry", "Elena", "Felix", "Galina", "Hugo", "Irina", "Jonas",
          "Katya", "Leon", "Maria", "Nikolai", "Olga", "Pavel", "Quentin", "Rosa", "Sergey", "Tanya"]
_MORE_FIRST = ["Ulrich", "Vera", "Walter", "Xenia", "Yuri", "Zoe"]  # contacts' names run from A to Z
_LAST = ["Ivanova", "Petrov", "Schmidt", "Novak", "Garcia", "Kowalski", "Smirnova", "Weber", "Rossi",
         "Dubois", "Larsen", "Nowak", "Popova", "Fischer", "Silva", "Kuznetsov", "Meyer", "Horvat"]
_WORDS = ["Alpha", "Birch", "Cobalt", "Delta", "Ember", "Fjord", "Granite", "Harbor", "Iris", "Juniper",
          "Kestrel", "Lumen", "Maple", "Nimbus", "Orbit", "Pioneer", "Quartz", "River", "Summit", "Tundra"]
_MORE_WORDS = ["Umber", "Vertex", "Willow", "Xenon", "Yarrow", "Zenith"]  # companies' titles run from A to Z
_KINDS = ["Logistics", "Foods", "Software", "Textiles", "Energy", "Clinics", "Studio", "Motors", "Print"]
_DEAL_STAGES = ["NEW", "PREPARATION", "PREPAYMENT_INVOICE", "EXECUTING", "FINAL_INVOICE", "WON", "LOSE"]
_LEAD_STATUSES = ["NEW", "IN_PROCESS", "PROCESSED", "JUNK", "CONVERTED"]
DEAL_CATEGORIES = [(0, "General", 300), (9, "Partners", 200)]  # (id, name, sort) of the deal pipelines
# crm.status.list reference lists: ENTITY_ID -> [(STATUS_ID, NAME)]; stage lists carry their semantics
_STATUS_LISTS = {
    "DEAL_STAGE": [("NEW", "New"), ("PREPARATION", "Document preparation"),
                   ("PREPAYMENT_INVOICE", "Invoice"), ("EXECUTING", "In progress"),
                   ("FINAL_INVOICE", "Final invoice"), ("WON", "Deal won"), ("LOSE", "Deal lost")],
    "STATUS": [("NEW", "Unassigned"), ("IN_PROCESS", "In progress"), ("PROCESSED", "Processed"),
               ("JUNK", "Junk lead"), ("CONVERTED", "Good lead")],
    "SOURCE": [("CALL", "Call"), ("EMAIL", "E-Mail"), ("WEB", "Website"), ("ADVERTISING", "Advertising"),
               ("PARTNER", "Existing client"), ("RECOMMENDATION", "By recommendation"), ("OTHER", "Other")],
    "DEAL_TYPE": [("SALE", "Sales"), ("COMPLEX", "Complex sale"), ("GOODS", "Sale of goods"),
                  ("SERVICES", "Sale of services")],
    "CONTACT_TYPE": [("CLIENT", "Clients"), ("SUPPLIER", "Suppliers"), ("PARTNER", "Partners")],
    "COMPANY_TYPE": [("CUSTOMER", "Client"), ("PARTNER", "Partner"), ("SUPPLIER", "Supplier")],
    "INDUSTRY": [("IT", "Information Technology"), ("MANUFACTURING", "Manufacturing"), ("DELIVERY", "Delivery"),
                 ("OTHER", "Other")],
    "EMPLOYEES": [("EMPLOYEES_1", "less than 50"), ("EMPLOYEES_2", "50-250"), ("EMPLOYEES_3", "250-500")],
}
_STAGE_COLORS = {"P": "#39A8EF", "S": "#7BD500", "F": "#FF5752"}
_CURRENCIES = ["USD", "EUR", "RUB"]
_SOURCES = ["CALL", "EMAIL", "WEB", "ADVERTISING", "PARTNER", "RECOMMENDATION", "OTHER"]
_POSITIONS = ["Sales manager", "Developer", "Accountant", "Head of sales", "Support", "Designer"]
_DEPARTMENTS = [("Acme Corp", None), ("Sales", 1), ("Development", 1), ("Support", 1), ("Accounting", 1),
                ("Field sales", 2)]
_AUDIT = [("USER_AUTHORIZE", "main", "INFO"), ("USER_LOGOUT", "main", "INFO"),
          ("USER_PASSWORD_CHANGED", "main", "WARNING"), ("USER_LOGIN_FAILED", "main", "WARNING"),
          ("MODULE_SETTINGS_CHANGED", "main", "SECURITY"), ("FILE_DELETE", "disk", "INFO"),
          ("GROUP_POLICY_CHANGED", "main", "SECURITY")]


class _FastRandom:
    """random.Random's few methods used here, built on random() alone: seeding 100,000 deals stays quick."""

    def __init__(self, seed: int) -> None:
        self._random = random.Random(seed).random

    def random(self) -> float:
        return self._random()

    def choice(self, seq: Any) -> Any:
        return seq[int(self._random() * len(seq))]

    def randint(self, a: int, b: int) -> int:
        return a + int(self._random() * (b - a + 1))

    def randrange(self, start: int, stop: int | None = None, step: int = 1) -> int:
        if stop is None:
            start, stop = 0, start
        return start + step * int(self._random() * ((stop - start + step - 1) // step))


def seed_store(seed: int, *, deals: int, leads: int, contacts: int, companies: int, tasks: int,
               events: int, users: int = 12, now: float | None = None) -> Store:
    """The seeded portal. Its dates lie in the days before `now` (unix time; the sandbox's clock), counted
    from that day's midnight, so the same seed gives the same rows all day and "the last 6 months" finds
    rows whenever it runs."""
    rng = _FastRandom(seed)
    store = Store()
    today = dt.datetime.fromtimestamp(time.time() if now is None else now, PORTAL_TZ)
    today = today.replace(hour=0, minute=0, second=0, microsecond=0)
    epoch = today - dt.timedelta(days=_HISTORY_DAYS)

    def moment(max_days: int = _HISTORY_DAYS) -> dt.datetime:
        return epoch + dt.timedelta(minutes=rng.randrange(max_days * 24 * 60))

    def iso(moment: dt.datetime) -> str:
        return moment.isoformat(timespec="seconds")  # seeded moments are already in the portal's zone

    for entity, items in [*_STATUS_LISTS.items(), ("DEAL_STAGE_9", _STATUS_LISTS["DEAL_STAGE"])]:
        for n, (status_id, name) in enumerate(items):
            row: dict[str, Any] = {"ENTITY_ID": entity, "STATUS_ID": status_id, "NAME": name, "NAME_INIT": name,
                                   "SORT": str(10 * (n + 1)), "SYSTEM": "Y" if n == 0 else "N",
                                   "CATEGORY_ID": None, "COLOR": None, "SEMANTICS": None}
            if entity.startswith(("DEAL_STAGE", "STATUS")):
                semantic = "S" if status_id in ("WON", "CONVERTED") else "F" if status_id in ("LOSE", "JUNK") else "P"
                row.update({"COLOR": _STAGE_COLORS[semantic], "SEMANTICS": None if semantic == "P" else semantic,
                            "EXTRA": {"SEMANTICS": {"P": "process", "S": "success", "F": "failure"}[semantic],
                                      "COLOR": _STAGE_COLORS[semantic]}})
            if entity == "DEAL_STAGE_9":
                row.update({"STATUS_ID": f"C9:{status_id}", "CATEGORY_ID": "9"})
            store.statuses.insert(row)
    for name, parent in _DEPARTMENTS:
        store.departments.insert({"NAME": name, "SORT": "500", "PARENT": None if parent is None else str(parent),
                                  "UF_HEAD": "1"})
    for i in range(users):
        first, last = _FIRST[i % len(_FIRST)], _LAST[(i * 7) % len(_LAST)]
        store.users.insert({
            "ACTIVE": i % 11 != 10, "NAME": first, "LAST_NAME": last,
            "EMAIL": f"{first.lower()}.{last.lower()}@example.com",
            "WORK_POSITION": "Administrator" if i == 0 else rng.choice(_POSITIONS),
            "PERSONAL_GENDER": "F" if first.endswith("a") else "M",
            "UF_DEPARTMENT": [1] if i == 0 else [rng.randint(2, len(_DEPARTMENTS))],
            "DATE_REGISTER": iso(epoch - dt.timedelta(days=rng.randint(30, 900))),
            "IS_ONLINE": "Y" if i % 3 == 0 else "N", "TIME_ZONE": "Europe/Berlin",
        })
    user_ids = [str(i) for i in range(1, users + 1)]

    def tail() -> dict[str, Any]:
        created = moment()
        return {
            "ASSIGNED_BY_ID": rng.choice(user_ids), "CREATED_BY_ID": rng.choice(user_ids),
            "MODIFY_BY_ID": rng.choice(user_ids), "DATE_CREATE": iso(created),
            "DATE_MODIFY": iso(created + dt.timedelta(hours=rng.randint(0, 2000))),
            "OPENED": rng.choice("YN"), "COMMENTS": "", "SOURCE_ID": rng.choice(_SOURCES),
        }

    company_words = _WORDS + _MORE_WORDS
    def contacts_of(name: str, domain: str) -> dict[str, Any]:
        phone = {"ID": store.multifield_id(), "VALUE_TYPE": "WORK", "VALUE": f"+4930{rng.randint(1000000, 9999999)}",
                 "TYPE_ID": "PHONE"}
        email = {"ID": store.multifield_id(), "VALUE_TYPE": "WORK", "VALUE": f"{name.lower()}@{domain}",
                 "TYPE_ID": "EMAIL"}
        return {"PHONE": [phone], "EMAIL": [email], "HAS_PHONE": "Y", "HAS_EMAIL": "Y"}

    for _ in range(companies):
        store.companies.insert({
            "TITLE": f"{rng.choice(company_words)} {rng.choice(_KINDS)}", "COMPANY_TYPE": rng.choice(["CUSTOMER", "PARTNER",
                                                                                                "SUPPLIER"]),
            "INDUSTRY": rng.choice(["IT", "MANUFACTURING", "DELIVERY", "OTHER"]),
            "EMPLOYEES": rng.choice(["EMPLOYEES_1", "EMPLOYEES_2", "EMPLOYEES_3"]),
            "REVENUE": f"{rng.randrange(10_000, 5_000_000)}.00", "CURRENCY_ID": rng.choice(_CURRENCIES),
            **{k: v for k, v in tail().items() if k != "SOURCE_ID"}, **contacts_of("info", "example.com"),
        })
    contact_names = _FIRST + _MORE_FIRST
    for _ in range(contacts):
        store.contacts.insert({
            "NAME": rng.choice(contact_names), "LAST_NAME": rng.choice(_LAST), "POST": rng.choice(_POSITIONS),
            "TYPE_ID": rng.choice(["CLIENT", "SUPPLIER", "PARTNER"]),
            "COMPANY_ID": str(rng.randint(1, companies)) if companies else None,
            "EXPORT": "Y", **tail(),
        })
        contact = store.contacts.rows[store.contacts.ids[-1]]
        contact.update(contacts_of(contact["NAME"], "example.org"))
    for i in range(leads):
        first, last = rng.choice(_FIRST), rng.choice(_LAST)
        store.leads.insert({
            "TITLE": f"Lead #{i + 1}: {first} {last}", "NAME": first, "LAST_NAME": last,
            "STATUS_ID": rng.choice(_LEAD_STATUSES), "CURRENCY_ID": rng.choice(_CURRENCIES),
            "OPPORTUNITY": f"{rng.randrange(100, 50_000)}.00",
            "COMPANY_TITLE": f"{rng.choice(_WORDS)} {rng.choice(_KINDS)}",
            "CONTACT_ID": str(rng.randint(1, contacts)) if contacts else None, **tail(),
            **contacts_of(first, "example.net"),
        })
    for i in range(deals):
        category = 0 if rng.random() < 0.8 else 9
        stage = rng.choice(_DEAL_STAGES)
        begin = moment()
        closed = stage in ("WON", "LOSE")
        store.deals.insert({
            "TITLE": f"Deal #{i + 1}: {rng.choice(_WORDS)} {rng.choice(_KINDS)}",
            "TYPE_ID": rng.choice(["SALE", "COMPLEX", "GOODS", "SERVICES"]),
            "CATEGORY_ID": str(category), "STAGE_ID": stage if category == 0 else f"C9:{stage}",
            "STAGE_SEMANTIC_ID": "S" if stage == "WON" else "F" if stage == "LOSE" else "P",
            "IS_NEW": "Y" if stage == "NEW" else "N", "PROBABILITY": str(rng.randrange(0, 101, 10)),
            "CURRENCY_ID": rng.choice(_CURRENCIES), "OPPORTUNITY": f"{rng.randrange(100, 250_000)}.00",
            "IS_MANUAL_OPPORTUNITY": "N",
            "COMPANY_ID": str(rng.randint(1, companies)) if companies else "0",
            "CONTACT_ID": str(rng.randint(1, contacts)) if contacts else None,
            "LEAD_ID": str(rng.randint(1, leads)) if leads and rng.random() < 0.3 else None,
            "BEGINDATE": begin.date().isoformat(),
            "CLOSEDATE": (begin + dt.timedelta(days=rng.randint(7, 120))).date().isoformat(),
            "CLOSED": "Y" if closed else "N", **tail(),
        })
    for i in range(tasks):
        created = moment()
        status = rng.choice([2, 2, 3, 5, 6])
        store.tasks.insert({
            "TITLE": f"Task #{i + 1}: {rng.choice(['Call', 'Prepare', 'Review', 'Send', 'Plan'])} "
                     f"{rng.choice(_WORDS).lower()}",
            "DESCRIPTION": "", "STATUS": str(status), "PRIORITY": str(rng.choice([0, 1, 2])),
            "RESPONSIBLE_ID": rng.choice(user_ids), "CREATED_BY": rng.choice(user_ids),
            "GROUP_ID": "0", "DEADLINE": iso(created + dt.timedelta(days=rng.randint(1, 30))),
            "CREATED_DATE": iso(created), "CHANGED_DATE": iso(created + dt.timedelta(hours=rng.randint(1, 99))),
            "CLOSED_DATE": iso(created + dt.timedelta(days=rng.randint(1, 9))) if status == 5 else None,
        })
    gaps = [rng.randint(5, 4000) for _ in range(events)]
    stamp = today - dt.timedelta(seconds=sum(gaps))  # the newest record is from this morning
    for gap in gaps:
        stamp += dt.timedelta(seconds=gap)
        audit, module, severity = rng.choice(_AUDIT)
        store.eventlog.insert({
            "TIMESTAMP_X": iso(stamp), "SEVERITY": severity, "AUDIT_TYPE_ID": audit, "MODULE_ID": module,
            "ITEM_ID": str(rng.randint(1, users)), "REMOTE_ADDR": f"192.0.2.{rng.randint(1, 254)}",
            "USER_AGENT": "Mozilla/5.0", "REQUEST_URI": "/auth/", "SITE_ID": "s1",
            "USER_ID": rng.choice(user_ids), "DESCRIPTION": "",
        })
    return store
