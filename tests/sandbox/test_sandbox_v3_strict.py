"""REST v3 params are checked as a portal checks them: exact keys, known fields and operators, what filters."""

from __future__ import annotations

import httpx

P = "BITRIX_REST_V3_EXCEPTION_"


def error_of(client: httpx.Client, method: str, body: object) -> dict:
    reply = client.post(method, json=body)
    assert reply.status_code == 400, reply.text
    return reply.json()["error"]


def test_v2_spellings_are_refused(v3: httpx.Client) -> None:
    for body in ({"taskId": 1}, {"ID": 1}, {"Id": 1}):  # v3 keys keep their case
        assert error_of(v3, "tasks.task.get", body)["validation"] == [
            {"message": "Required field `id` is not specified", "field": "id"}]
    assert error_of(v3, "tasks.task.list", {"filter": {">ID": 5}})["code"] == P + "INVALIDFILTEREXCEPTION"
    # an unknown own field in `select` is left out of the answer, as the docs say, not refused
    assert v3.post("tasks.task.get", json={"id": 1, "select": ["ID", "TITLE"]}).json()["result"]["item"] == {}


def test_tasks_filter_on_id_only_with_typed_values(v3: httpx.Client) -> None:
    error = error_of(v3, "tasks.task.list", {"filter": [["status", "!=", 5]]})
    assert error["code"] == P + "VALIDATION_REQUESTVALIDATIONEXCEPTION"
    assert error["validation"] == [{"field": "status", "message": (
        "In DTO `TaskDto`, the `status` field requires the `Filterable` attribute for such a request")}]
    nested = error_of(v3, "tasks.task.list", {"filter": [{"logic": "or", "conditions": [["id", 1], ["title", "x"]]}]})
    assert nested["validation"][0]["field"] == "title"
    assert error_of(v3, "tasks.task.list", {"filter": [["title", "%", "Call"]]})["code"] == (
        P + "UNKNOWNFILTEROPERATOREXCEPTION")
    assert error_of(v3, "tasks.task.list", {"filter": [["id", "%", 1]]})["code"] == P + "UNKNOWNFILTEROPERATOREXCEPTION"
    assert error_of(v3, "tasks.task.list", {"filter": [["noSuch", "=", 1]]})["message"] == (
        "Unknown field `noSuch` for entity `TaskDto`")
    for bad in (["id", ">", "5"], ["id", "in", [1, "2"]], ["id", True]):
        assert error_of(v3, "tasks.task.list", {"filter": [bad]})["validation"] == [
            {"field": "id", "message": "Field `id` must be an integer"}]
    ok = v3.post("tasks.task.list", json={"filter": [["id", "in", [1, 2]]]}).json()["result"]["items"]
    assert ok == [{"id": 1}, {"id": 2}]


def test_order_only_on_sortable_fields(v3: httpx.Client) -> None:
    assert error_of(v3, "tasks.task.list", {"order": {"description": "ASC"}})["code"] == P + "INVALIDORDEREXCEPTION"
    items = v3.post("tasks.task.list", json={"order": {"created": "DESC", "id": "ASC"}, "select": ["id", "created"],
                                              "pagination": {"limit": 5}}).json()["result"]["items"]
    assert len(items) == 5
    assert [i["created"] for i in items] == sorted((i["created"] for i in items), reverse=True)


def test_the_event_log_filters_on_any_of_its_fields(v3: httpx.Client) -> None:
    items = v3.post("main.eventlog.list", json={"filter": [["severity", "=", "SECURITY"]], "select": ["severity"],
                                                 "pagination": {"limit": 3}}).json()["result"]["items"]
    assert items
    assert {i["severity"] for i in items} == {"SECURITY"}
