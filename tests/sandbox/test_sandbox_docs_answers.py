"""Envelope checks: each method the sandbox serves answers in the shape of its docs page's example.

The shapes (JSON type, keys, the keys of a wrapper's rows) are facts that scripts/gen_sandbox_fields.py took
from the docs' example answers; the sandbox is called here over loopback with parameters that make a
successful answer, and what it answers must have the same type and at least the documented keys.
"""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from b24explorer.sandbox.docs_fields import FACTS

# parameters for a successful call of each method checked; `select` asks for what the example shows
SAMPLES: dict[str, dict[str, Any]] = {
    "server.time": {}, "profile": {}, "scope": {}, "methods": {}, "app.info": {},
    "method.get": {"name": "crm.deal.list"}, "feature.get": {"CODE": "rest_offline_extended"},
    "user.current": {}, "user.get": {"ID": 1}, "user.fields": {},
    "department.get": {"ID": 2}, "department.fields": {},
    **{f"crm.{e}.fields": {} for e in ("deal", "lead", "contact", "company")},
    **{f"crm.{e}.get": {"id": 1} for e in ("deal", "lead", "contact", "company")},
    **{f"crm.{e}.list": {} for e in ("deal", "lead", "contact", "company")},
    "crm.deal.contact.items.get": {"id": 1}, "crm.lead.contact.items.get": {"id": 1},
    "crm.contact.company.items.get": {"id": 1}, "crm.company.contact.items.get": {"id": 3},
    **{f"crm.{o}.{t}.fields": {} for o, t in (("deal", "contact"), ("lead", "contact"), ("contact", "company"),
                                              ("company", "contact"))},
    "crm.category.list": {"entityTypeId": 2}, "crm.status.list": {"filter": {"ENTITY_ID": "DEAL_STAGE"}},
    "crm.timeline.comment.fields": {},
    "crm.item.get": {"entityTypeId": 2, "id": 1}, "crm.item.list": {"entityTypeId": 2},
    "crm.item.fields": {"entityTypeId": 2},
    "tasks.task.get": {"taskId": 1}, "tasks.task.list": {},
}
# keys of a documented example that belong to that example's own portal or request, not to the method
NOT_THE_METHODS = {
    "app.info": "the example is an application's; through a webhook the answer is {SCOPE, LICENSE}",
    "tasks.task.get": "the example selects related objects and user fields of its portal",
    "tasks.task.list": "the example selects related objects and counters of its portal",
    "crm.item.get": "the example is a contact of a portal with more modules (addresses, requisites)",
    "crm.item.list": "the example selects a lead's fields",
    "user.get": "the example selects personal fields the sandbox's users leave empty",
    "crm.item.fields": "crm.item's own fields (contacts, observers, movedBy…) are not modelled yet",
}


# PHONE, EMAIL, WEB, IM…: a row has them only when they hold values, so an example shows those its row had
MULTIFIELDS = {row[0] for rows in FACTS["crm"].values() for row in rows if row[1] == "crm_multifield"}


def shape_of(value: Any) -> dict[str, Any]:
    if isinstance(value, list):
        rows = [v for v in value if isinstance(v, dict)]
        return {"type": "array", "row_keys": set(rows[0]) if rows else set()}
    if isinstance(value, dict):
        out: dict[str, Any] = {"type": "object", "keys": set(value)}
        if len(value) == 1 and isinstance(next(iter(value.values())), (dict, list)):
            out["inner"] = shape_of(next(iter(value.values())))
        return out
    return {"type": {bool: "boolean", int: "number", float: "number", str: "string"}.get(type(value), "null")}


def documented(method: str) -> dict[str, Any]:
    return FACTS["answers_v2"][method]


@pytest.mark.parametrize("method", sorted(set(SAMPLES) & set(FACTS["answers_v2"])))
def test_answer_has_the_documented_shape(http: httpx.Client, method: str) -> None:
    answer = http.post(method, json=SAMPLES[method])
    assert answer.status_code == 200, answer.text
    envelope = answer.json()
    assert {"result", "time"} <= set(envelope)
    assert {"start", "finish", "duration", "date_start", "date_finish"} <= set(envelope["time"])
    got, want = shape_of(envelope["result"]), documented(method)
    assert got["type"] == want["type"]
    if method in NOT_THE_METHODS:
        return
    for level_got, level_want in ((got, want), (got.get("inner", {}), want.get("inner", {}))):
        assert level_got.get("type") == level_want.get("type")
        for key in ("keys", "row_keys"):
            if level_want.get(key) and not (key == "row_keys" and method.endswith((".list", ".get")) and
                                            "select" in SAMPLES[method]):
                missing = set(level_want[key]) - level_got.get(key, set()) - MULTIFIELDS
                assert not missing, f"{method} lacks documented keys {sorted(missing)}"


def test_most_served_methods_have_a_documented_answer_to_check() -> None:
    checked = set(SAMPLES) & set(FACTS["answers_v2"])
    assert len(checked) >= 35
