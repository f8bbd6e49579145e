"""Link, product-row, reference-list, timeline, department, notification and event methods, as documented."""

from __future__ import annotations

from typing import Any

import httpx


def call(http: httpx.Client, method: str, **params: Any) -> Any:
    return http.post(method, json=params).json()


def test_deal_contact_links(http: httpx.Client) -> None:
    seeded = call(http, "crm.deal.contact.items.get", id=1)["result"]
    deal = call(http, "crm.deal.get", id=1)["result"]
    assert [link["CONTACT_ID"] for link in seeded] == [int(deal["CONTACT_ID"])]
    assert call(http, "crm.deal.contact.items.set", id=1,
                items=[{"CONTACT_ID": 5}, {"CONTACT_ID": 6, "IS_PRIMARY": "Y"}])["result"] is True
    links = call(http, "crm.deal.contact.items.get", id=1)["result"]
    assert [(link["CONTACT_ID"], link["IS_PRIMARY"], link["SORT"]) for link in links] == [(5, "N", 10), (6, "Y", 20)]
    assert call(http, "crm.deal.get", id=1)["result"]["CONTACT_ID"] == "6"  # the primary link
    call(http, "crm.deal.contact.add", id=1, fields={"CONTACT_ID": 7})
    call(http, "crm.deal.contact.delete", id=1, fields={"CONTACT_ID": 6})
    links = call(http, "crm.deal.contact.items.get", id=1)["result"]
    assert [(link["CONTACT_ID"], link["IS_PRIMARY"]) for link in links] == [(5, "Y"), (7, "N")]
    assert call(http, "crm.deal.contact.items.get", id=0) == {
        "error": "", "error_description": "The parameter ownerEntityID is invalid or not defined."}
    assert call(http, "crm.deal.contact.items.get", id=10**7) == {"error": "", "error_description": "Not found."}
    assert call(http, "crm.deal.contact.items.delete", id=1)["result"] is True
    assert call(http, "crm.deal.contact.items.get", id=1)["result"] == []


def test_company_contacts_are_the_contacts_that_name_it(http: httpx.Client, sb: Any) -> None:
    links = call(http, "crm.company.contact.items.get", id=3)["result"]
    named = [int(r["ID"]) for r in sb.store.contacts if r["COMPANY_ID"] == "3"]
    assert [link["CONTACT_ID"] for link in links] == named


def test_deal_product_rows(http: httpx.Client) -> None:
    assert call(http, "crm.deal.productrows.get", id=2)["result"] == []
    rows = [{"PRODUCT_NAME": "Desk", "PRICE": 100, "QUANTITY": 2}, {"PRODUCT_NAME": "Lamp", "PRICE": 25.5}]
    assert call(http, "crm.deal.productrows.set", id=2, rows=rows)["result"] is True
    got = call(http, "crm.deal.productrows.get", id=2)["result"]
    assert [(r["PRODUCT_NAME"], r["PRICE"], r["QUANTITY"], r["OWNER_TYPE"]) for r in got] == [
        ("Desk", 100.0, 2.0, "D"), ("Lamp", 25.5, 1.0, "D")]
    assert call(http, "crm.deal.get", id=2)["result"]["OPPORTUNITY"] == "225.50"
    bad = call(http, "crm.deal.productrows.set", id=2, rows=[{"PRICE": 1, "DISCOUNT_TYPE_ID": 1}])
    assert bad["error"] == "ERROR_CORE"
    assert call(http, "crm.deal.productrows.get", id="x")["error_description"] == \
        "The parameter id is invalid or not defined."


def test_pipelines_and_status_lists(http: httpx.Client) -> None:
    categories = call(http, "crm.category.list", entityTypeId=2)["result"]["categories"]
    assert {c["id"] for c in categories} == {0, 9}
    assert [c["isDefault"] for c in categories if c["id"] == 0] == ["Y"]
    assert call(http, "crm.category.list", entityTypeId=1)["error"] == "ENTITY_TYPE_NOT_SUPPORTED"
    assert call(http, "crm.category.list", entityTypeId=999)["error"] == "NOT_FOUND"
    stages = call(http, "crm.status.list", filter={"ENTITY_ID": "DEAL_STAGE"}, order={"SORT": "ASC"})["result"]
    assert [s["STATUS_ID"] for s in stages][:2] == ["NEW", "PREPARATION"]
    assert stages[-1]["EXTRA"]["SEMANTICS"] == "failure"
    pipeline = call(http, "crm.status.list", filter={"ENTITY_ID": "DEAL_STAGE_9"})["result"]
    assert all(s["STATUS_ID"].startswith("C9:") and s["CATEGORY_ID"] == "9" for s in pipeline)


def test_timeline_comments(http: httpx.Client) -> None:
    new_id = call(http, "crm.timeline.comment.add", fields={"ENTITY_ID": 1, "ENTITY_TYPE": "deal",
                                                            "COMMENT": "Called back"})["result"]
    got = call(http, "crm.timeline.comment.get", id=new_id)["result"]
    assert (got["COMMENT"], got["ENTITY_TYPE"], got["ENTITY_ID"]) == ("Called back", "deal", "1")
    listed = call(http, "crm.timeline.comment.list", filter={"ENTITY_ID": 1, "ENTITY_TYPE": "deal"})["result"]
    assert [c["ID"] for c in listed] == [str(new_id)]
    assert call(http, "crm.timeline.comment.add", fields={"ENTITY_ID": 10**7, "ENTITY_TYPE": "deal",
                                                          "COMMENT": "x"})["error"] == "OWNER_NOT_FOUND"
    assert call(http, "crm.timeline.comment.add", fields={"ENTITY_ID": 1, "ENTITY_TYPE": "deal",
                                                          "COMMENT": " "})["error"] == "INVALID_ARG_VALUE"
    call(http, "crm.timeline.comment.update", id=new_id, fields={"COMMENT": "Called twice"})
    assert call(http, "crm.timeline.comment.get", id=new_id)["result"]["COMMENT"] == "Called twice"
    assert call(http, "crm.timeline.comment.delete", id=new_id)["result"] is True
    assert call(http, "crm.timeline.comment.get", id=new_id) == {"error": "", "error_description": "Not found."}


def test_user_and_department_fields_and_department_edits(http: httpx.Client) -> None:
    assert call(http, "user.fields")["result"]["SECOND_NAME"]
    assert set(call(http, "department.fields")["result"]) == {"ID", "NAME", "SORT", "PARENT", "UF_HEAD"}
    new_id = call(http, "department.add", NAME="QA", PARENT=1)["result"]
    assert call(http, "department.update", ID=new_id, NAME="Quality")["result"] is True
    assert call(http, "department.get", ID=new_id)["result"][0]["NAME"] == "Quality"
    assert call(http, "department.add", PARENT=1)["error_description"] == "Department name not provided.<br>"
    assert call(http, "department.delete", ID=new_id)["result"] is True
    assert call(http, "department.delete", ID=new_id) == {"error": "ERROR_CORE",
                                                           "error_description": "Department not found"}


def test_system_notification_and_event_handlers_need_an_app(http: httpx.Client) -> None:
    assert isinstance(call(http, "im.notify.system.add", USER_ID=1, MESSAGE="Build done")["result"], int)
    assert call(http, "im.notify.system.add", MESSAGE="x")["error"] == "USER_ID_EMPTY"
    assert call(http, "im.notify.system.add", USER_ID=1)["error"] == "MESSAGE_EMPTY"
    assert call(http, "event.get")["error"] == "WRONG_AUTH_TYPE"  # "only in the context of an application"
