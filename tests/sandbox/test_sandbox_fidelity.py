"""The sandbox answers as the public docs say a portal does: field sets, stored values, filters, dates."""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Callable

import httpx
import pytest

from b24explorer.sandbox import Sandbox
from b24explorer.sandbox.docs_fields import FACTS


@pytest.mark.parametrize("entity", ["deal", "lead", "contact", "company"])
def test_crm_fields_are_the_documented_set(http: httpx.Client, entity: str) -> None:
    fields = http.post(f"crm.{entity}.fields").json()["result"]
    documented = {row[0]: row for row in FACTS["crm"][entity]}
    assert set(fields) == set(documented)
    for name, (_, type_, title, flags, status) in documented.items():
        assert fields[name]["type"] == type_
        assert fields[name]["title"] == title
        assert fields[name]["isReadOnly"] == ("O" in flags)
        assert fields[name]["isMultiple"] == ("M" in flags)
        assert fields[name].get("statusType") == status


def test_crm_rows_carry_every_field_and_multifields(http: httpx.Client) -> None:
    deal = http.post("crm.deal.get", json={"id": 1}).json()["result"]
    assert {"IS_RECURRING", "ADDITIONAL_INFO", "SOURCE_DESCRIPTION", "MOVED_BY_ID"} <= set(deal)
    assert deal["IS_RECURRING"] == "N"
    assert deal["ADDITIONAL_INFO"] is None
    contact = http.post("crm.contact.get", json={"id": 1}).json()["result"]
    assert contact["HAS_PHONE"] == "Y"
    assert contact["PHONE"][0]["TYPE_ID"] == "PHONE"
    assert set(contact["EMAIL"][0]) == {"ID", "VALUE_TYPE", "VALUE", "TYPE_ID"}


def test_contact_add_keeps_second_name_and_multifields(http: httpx.Client) -> None:
    new_id = http.post("crm.contact.add", json={"fields": {
        "NAME": "Ada", "SECOND_NAME": "Maria", "LAST_NAME": "Lovelace",
        "PHONE": [{"VALUE": "+441234", "VALUE_TYPE": "WORK"}], "EMAIL": [{"VALUE": "ada@example.org"}]}}).json()["result"]
    row = http.post("crm.contact.get", json={"id": new_id}).json()["result"]
    assert row["SECOND_NAME"] == "Maria"
    assert [(p["VALUE"], p["VALUE_TYPE"]) for p in row["PHONE"]] == [("+441234", "WORK")]
    assert row["EMAIL"][0]["VALUE_TYPE"] == "WORK"
    assert row["HAS_EMAIL"] == "Y"
    phone_id = row["PHONE"][0]["ID"]
    http.post("crm.contact.update", json={"id": new_id, "fields": {
        "PHONE": [{"ID": phone_id, "VALUE": ""}, {"VALUE": "+449999", "VALUE_TYPE": "MOBILE"}]}})
    row = http.post("crm.contact.get", json={"id": new_id}).json()["result"]
    assert [(p["VALUE"], p["VALUE_TYPE"]) for p in row["PHONE"]] == [("+449999", "MOBILE")]


def test_user_answers_empty_text_as_empty_strings(http: httpx.Client) -> None:
    user = http.post("user.current").json()["result"]
    assert {name for name, _ in FACTS["user"]} <= set(user)
    assert user["SECOND_NAME"] == ""
    assert user["PERSONAL_PHONE"] == ""
    assert user["ACTIVE"] is True
    assert user["UF_DEPARTMENT"] == [1]


def test_crm_item_uses_its_own_names(http: httpx.Client) -> None:
    item = http.post("crm.item.get", json={"entityTypeId": 4, "id": 1}).json()["result"]["item"]
    assert {"createdTime", "updatedTime", "createdBy", "updatedBy"} <= set(item)
    assert "dateCreate" not in item
    fields = http.post("crm.item.fields", json={"entityTypeId": 2}).json()["result"]["fields"]
    assert fields["createdTime"]["upperName"] == "DATE_CREATE"


def test_unknown_filter_and_order_fields_are_refused(http: httpx.Client) -> None:
    r = http.post("crm.item.list", json={"entityTypeId": 4, "filter": {">ddId": 2}})
    assert r.status_code == 400
    assert r.json() == {"error": "INVALID_ARG_VALUE", "error_description": "Invalid filter: field 'ddId' is not "
                                                                           "allowed in filter"}
    r = http.post("crm.item.list", json={"entityTypeId": 4, "order": {"nope": "ASC"}})
    assert r.status_code == 400
    assert "Invalid order" in r.json()["error_description"]
    # the classic list methods still ignore what they do not know
    assert http.post("crm.deal.list", json={"filter": {">ddId": 2}}).status_code == 200


def test_seeded_dates_lie_in_the_last_months(make_sandbox: Callable[..., Sandbox]) -> None:
    moment = dt.datetime(2031, 5, 17, 12, 0, tzinfo=dt.UTC).timestamp()
    sandbox = make_sandbox(deals=50, clock=lambda: moment)
    with httpx.Client(base_url=sandbox.webhook_url) as c:
        since = "2030-11-17T00:00:00+00:00"
        recent = c.post("crm.item.list", json={"entityTypeId": 4, "filter": {">=createdTime": since}}).json()
        assert recent["total"] > 0
        newest = max(row["TIMESTAMP_X"] for row in sandbox.store.eventlog)
        assert "2031-05-1" in newest
        assert all(row["DATE_CREATE"] < "2031-05-18" for row in sandbox.store.companies)


def test_enough_companies_and_contacts_across_the_alphabet(sb: Sandbox) -> None:
    for table, key in ((sb.store.companies, "TITLE"), (sb.store.contacts, "NAME")):
        assert len(table) > 50
        initials = {row[key][0] for row in table}
        assert {"A", "M", "Z"} <= initials


def test_seed_is_stable_within_a_day() -> None:
    now = time.time()
    a, b = Sandbox(deals=5, clock=lambda: now), Sandbox(deals=5, clock=lambda: now + 60)
    same_day = dt.datetime.fromtimestamp(now).date() == dt.datetime.fromtimestamp(now + 60).date()
    if same_day:
        assert a.store.deals.rows == b.store.deals.rows
