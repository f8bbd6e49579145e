"""The sandbox portal's data: seeded, deterministic tables indexed by id."""

from __future__ import annotations

import bisect
import datetime as dt
import json
import random
from collections.abc import Callable, Iterator
from typing import Any

from . import schema
from .schema import Field

PORTAL_TZ = dt.timezone(dt.timedelta(hours=3))
_EPOCH = dt.datetime(2024, 1, 1, 9, 0, tzinfo=PORTAL_TZ)


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
    return json.dumps(obj, separators=(",", ":"))


class Table:
    """Rows keyed by integer id, with a sorted id index so `>ID` windows are a bisect away."""

    def __init__(self, name: str, fields: list[Field], store: Store) -> None:
        self.name = name
        self.fields = fields
        self.by_name = {f.name: f for f in fields}
        self.by_camel = {f.camel: f for f in fields}
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
        fresh = {"ID": ""}
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
        self.users = Table("user", schema.USER_FIELDS, self)
        self.departments = Table("department", schema.DEPARTMENT_FIELDS, self)
        self.leads = Table("lead", schema.LEAD_FIELDS, self)
        self.contacts = Table("contact", schema.CONTACT_FIELDS, self)
        self.companies = Table("company", schema.COMPANY_FIELDS, self)
        self.deals = Table("deal", schema.DEAL_FIELDS, self)
        self.tasks = Table("task", schema.TASK_FIELDS, self)
        self.eventlog = Table("eventlog", schema.EVENTLOG_FIELDS, self)

    @property
    def version(self) -> int:
        """Grows with every write to any table (a cheap "has anything changed" check)."""
        return sum(table.version for table in self._tables())

    def _tables(self) -> tuple[Table, ...]:
        return (self.users, self.departments, self.leads, self.contacts, self.companies, self.deals,
                self.tasks, self.eventlog)

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
_LAST = ["Ivanova", "Petrov", "Schmidt", "Novak", "Garcia", "Kowalski", "Smirnova", "Weber", "Rossi",
         "Dubois", "Larsen", "Nowak", "Popova", "Fischer", "Silva", "Kuznetsov", "Meyer", "Horvat"]
_WORDS = ["Alpha", "Birch", "Cobalt", "Delta", "Ember", "Fjord", "Granite", "Harbor", "Iris", "Juniper",
          "Kestrel", "Lumen", "Maple", "Nimbus", "Orbit", "Pioneer", "Quartz", "River", "Summit", "Tundra"]
_KINDS = ["Logistics", "Foods", "Software", "Textiles", "Energy", "Clinics", "Studio", "Motors", "Print"]
_DEAL_STAGES = ["NEW", "PREPARATION", "PREPAYMENT_INVOICE", "EXECUTING", "FINAL_INVOICE", "WON", "LOSE"]
_LEAD_STATUSES = ["NEW", "IN_PROCESS", "PROCESSED", "JUNK", "CONVERTED"]
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
               events: int, users: int = 12) -> Store:
    rng = _FastRandom(seed)
    store = Store()

    def moment(max_days: int = 700) -> dt.datetime:
        return _EPOCH + dt.timedelta(minutes=rng.randrange(max_days * 24 * 60))

    def iso(moment: dt.datetime) -> str:
        return moment.isoformat(timespec="seconds")  # seeded moments are already in the portal's zone

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
            "DATE_REGISTER": iso(_EPOCH - dt.timedelta(days=rng.randint(30, 900))),
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

    for _ in range(companies):
        store.companies.insert({
            "TITLE": f"{rng.choice(_WORDS)} {rng.choice(_KINDS)}", "COMPANY_TYPE": rng.choice(["CUSTOMER", "PARTNER",
                                                                                                "SUPPLIER"]),
            "INDUSTRY": rng.choice(["IT", "MANUFACTURING", "DELIVERY", "OTHER"]),
            "EMPLOYEES": rng.choice(["EMPLOYEES_1", "EMPLOYEES_2", "EMPLOYEES_3"]),
            "REVENUE": f"{rng.randrange(10_000, 5_000_000)}.00", "CURRENCY_ID": rng.choice(_CURRENCIES), **tail(),
        })
    for _ in range(contacts):
        store.contacts.insert({
            "NAME": rng.choice(_FIRST), "LAST_NAME": rng.choice(_LAST), "POST": rng.choice(_POSITIONS),
            "TYPE_ID": rng.choice(["CLIENT", "SUPPLIER", "PARTNER"]),
            "COMPANY_ID": str(rng.randint(1, companies)) if companies else None,
            "EXPORT": "Y", **tail(),
        })
    for i in range(leads):
        first, last = rng.choice(_FIRST), rng.choice(_LAST)
        store.leads.insert({
            "TITLE": f"Lead #{i + 1}: {first} {last}", "NAME": first, "LAST_NAME": last,
            "STATUS_ID": rng.choice(_LEAD_STATUSES), "CURRENCY_ID": rng.choice(_CURRENCIES),
            "OPPORTUNITY": f"{rng.randrange(100, 50_000)}.00",
            "COMPANY_TITLE": f"{rng.choice(_WORDS)} {rng.choice(_KINDS)}",
            "CONTACT_ID": str(rng.randint(1, contacts)) if contacts else None, **tail(),
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
    stamp = _EPOCH
    for _ in range(events):
        stamp += dt.timedelta(seconds=rng.randint(5, 4000))
        audit, module, severity = rng.choice(_AUDIT)
        store.eventlog.insert({
            "TIMESTAMP_X": iso(stamp), "SEVERITY": severity, "AUDIT_TYPE_ID": audit, "MODULE_ID": module,
            "ITEM_ID": str(rng.randint(1, users)), "REMOTE_ADDR": f"192.0.2.{rng.randint(1, 254)}",
            "USER_AGENT": "Mozilla/5.0", "REQUEST_URI": "/auth/", "SITE_ID": "s1",
            "USER_ID": rng.choice(user_ids), "DESCRIPTION": "",
        })
    return store
