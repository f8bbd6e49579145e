"""REST v3: envelopes, errors, filters, select, order, pagination, idempotency, array batch, OpenAPI."""

from __future__ import annotations

from collections.abc import Callable

import httpx
import pytest

from b24explorer.sandbox import Sandbox

P = "BITRIX_REST_V3_EXCEPTION_"


def v3_client(sandbox: Sandbox, url: str | None = None) -> httpx.Client:
    base = url.replace("/rest/", "/rest/api/") if url else f"{sandbox.base_url}/rest/api/1/{sandbox.secret}/"
    return httpx.Client(base_url=base, timeout=30)


def test_item_items_result_shapes(make_sandbox: Callable[..., Sandbox]) -> None:
    sandbox = make_sandbox(deals=5)
    with v3_client(sandbox) as c:
        got = c.post("tasks.task.get", json={"id": 2}).json()
        assert got["result"]["item"]["id"] == 2
        assert got["result"]["item"]["title"] == sandbox.store.tasks.rows[2]["TITLE"]
        assert {"start", "finish", "operating", "operating_reset_at"} <= set(got["time"])
        listed = c.post("tasks.task.list", json={}).json()["result"]["items"]
        assert listed[0] == {"id": 1}  # without select, a task list carries ids only
        added = c.post("tasks.task.add", json={"fields": {"title": "T", "creatorId": 1, "responsibleId": 3}}).json()
        new_id = added["result"]["item"]["id"]
        assert added["result"]["item"]["responsibleId"] == 3
        assert c.post("tasks.task.update", json={"id": new_id, "fields": {"title": "U"}}).json()["result"] == {
            "result": True}
        assert sandbox.store.tasks.rows[new_id]["TITLE"] == "U"
        assert c.post("tasks.task.delete", json={"id": new_id}).json()["result"] == {"result": True}
    assert sandbox.counters.writes() == 3


def test_error_envelope_and_validation(v3: httpx.Client) -> None:
    r = v3.post("tasks.task.get", json={})
    assert r.status_code == 400
    err = r.json()["error"]
    assert err["code"] == P + "VALIDATION_REQUESTVALIDATIONEXCEPTION"
    assert err["validation"] == [{"message": "Required field `id` is not specified", "field": "id"}]
    r = v3.post("tasks.task.get", json={"id": 987654})
    assert r.json()["error"]["code"] == P + "ENTITYNOTFOUNDEXCEPTION"
    assert "validation" not in r.json()["error"]
    r = v3.post("tasks.task.add", json={"fields": {"title": "x", "bogus": 1}})
    assert r.json()["error"]["code"] == P + "UNKNOWNDTOPROPERTYEXCEPTION"
    r = v3.post("tasks.task.add", json={"fields": {"title": "x"}})
    fields = {v["field"] for v in r.json()["error"]["validation"]}
    assert fields == {"fields.creatorId", "fields.responsibleId"}


def test_json_only_and_query_string_ignored(v3: httpx.Client) -> None:
    r = v3.post("tasks.task.get", data={"id": "1"})
    assert r.status_code == 400
    assert r.json()["error"]["code"] == P + "INVALIDJSONEXCEPTION"
    r = v3.post("tasks.task.get", content=b"{broken", headers={"Content-Type": "application/json"})
    assert r.json()["error"]["code"] == P + "INVALIDJSONEXCEPTION"
    r = v3.get("tasks.task.get?id=1")
    assert r.json()["error"]["code"] == P + "VALIDATION_REQUESTVALIDATIONEXCEPTION"


def test_filter_triples_groups_order_pagination(v3: httpx.Client, sb: Sandbox) -> None:
    body = {"select": ["id", "status", "priority"],
            "filter": [["id", ">", 3], {"logic": "or", "conditions": [["id", "<", 20], ["id", ">=", 40]]},
                       ["id", "in", list(range(1, 45))]],
            "order": {"id": "DESC"}, "pagination": {"page": 2, "limit": 5}}
    items = v3.post("tasks.task.list", json=body).json()["result"]["items"]
    want = [i for i in range(44, 3, -1) if i < 20 or i >= 40][5:10]
    assert [i["id"] for i in items] == want
    assert all(i["status"] == int(sb.store.tasks.rows[i["id"]]["STATUS"]) for i in items)
    between = v3.post("tasks.task.list", json={"filter": [["id", "between", [3, 6]]]}).json()["result"]["items"]
    assert [i["id"] for i in between] == [3, 4, 5, 6]
    offset = v3.post("tasks.task.list", json={"pagination": {"limit": 2, "offset": 7}}).json()["result"]["items"]
    assert [i["id"] for i in offset] == [8, 9]
    # the JS SDK's keyset helper sends page 0: the first page, like page 1
    first = v3.post("tasks.task.list", json={"pagination": {"page": 0, "limit": 3}}).json()["result"]["items"]
    assert [i["id"] for i in first] == [1, 2, 3]
    for bad in ({"limit": "abc"}, {"limit": 0}, {"limit": 5000}, {"page": -1}, "x"):
        r = v3.post("tasks.task.list", json={"pagination": bad})
        assert r.status_code == 400
        assert r.json()["error"]["code"] == P + "INVALIDPAGINATIONEXCEPTION"
    r = v3.post("tasks.task.list", json={"order": {"nope": "ASC"}})
    assert r.json()["error"]["code"] == P + "INVALIDORDEREXCEPTION"
    r = v3.post("tasks.task.list", json={"filter": [["nope", "=", 1]]})
    assert r.status_code == 400
    r = v3.post("tasks.task.list", json={"filter": [["id", "~", 1]]})
    assert r.status_code == 400


def test_select_drops_unknown_own_fields_and_nests_related(v3: httpx.Client, sb: Sandbox) -> None:
    item = v3.post("tasks.task.get", json={"id": 1, "select": ["id", "title", "noSuchField", "responsible.name",
                                                              "responsible.email"]}).json()["result"]["item"]
    responsible = sb.store.users.rows[int(sb.store.tasks.rows[1]["RESPONSIBLE_ID"])]
    assert item == {"id": 1, "title": sb.store.tasks.rows[1]["TITLE"],
                    "responsible": {"name": responsible["NAME"], "email": responsible["EMAIL"]}}
    r = v3.post("tasks.task.get", json={"id": 1, "select": ["responsible.stageId"]})
    assert r.status_code == 400
    assert r.json()["error"]["code"] == P + "UNKNOWNDTOPROPERTYEXCEPTION"


def test_idempotency_key_replays(make_sandbox: Callable[..., Sandbox]) -> None:
    sandbox = make_sandbox(deals=5)
    body = {"fields": {"title": "Once", "creatorId": 1, "responsibleId": 1}}
    with v3_client(sandbox) as c:
        first = c.post("tasks.task.add", json=body, headers={"Idempotency-Key": "abc-1"})
        second = c.post("tasks.task.add", json=body, headers={"Idempotency-Key": "abc-1"})
        assert first.status_code == second.status_code == 200
        assert second.content == first.content
        assert second.headers["Idempotent-Replayed"] == "true"
        assert "Idempotent-Replayed" not in first.headers
        assert first.headers["Idempotency-Key"] == second.headers["Idempotency-Key"] == "abc-1"
        assert sandbox.counters.writes("tasks.task.add") == 1
        other = c.post("tasks.task.add", json={**body, "fields": {**body["fields"], "title": "Other"}},
                       headers={"Idempotency-Key": "abc-1"})
        assert other.status_code == 422
        assert other.json()["error"]["code"] == P + "IDEMPOTENCYKEYREUSEDEXCEPTION"
        bad = c.post("tasks.task.add", json=body, headers={"Idempotency-Key": "x" * 256})
        assert bad.json()["error"]["code"] == P + "INVALIDIDEMPOTENCYKEYEXCEPTION"
        fresh = c.post("tasks.task.add", json=body, headers={"Idempotency-Key": "abc-2"})
        assert fresh.json()["result"]["item"]["id"] != first.json()["result"]["item"]["id"]
    assert sandbox.counters.writes("tasks.task.add") == 2


def test_v3_batch_array_all_or_nothing(make_sandbox: Callable[..., Sandbox]) -> None:
    sandbox = make_sandbox(deals=5)
    before = len(sandbox.store.tasks)
    add = {"method": "tasks.task.add", "query": {"fields": {"title": "B", "creatorId": 1, "responsibleId": 1}}}
    with v3_client(sandbox) as c:
        failed = c.post("batch", json=[add, add, {"method": "tasks.task.get", "query": {"id": 10 ** 6}}])
        assert failed.status_code == 400
        assert failed.json()["error"]["code"] == P + "ENTITYNOTFOUNDEXCEPTION"
        assert len(sandbox.store.tasks) == before  # rolled back
        ok = c.post("batch", json=[add, {"method": "tasks.task.get", "query": {"id": 1}},
                                   {"method": "main.eventlog.list", "query": {"pagination": {"limit": 2}}}])
        result = ok.json()["result"]
        assert result[0]["item"]["title"] == "B"
        assert result[1]["item"]["id"] == 1
        assert len(result[2]["items"]) == 2
        assert len(sandbox.store.tasks) == before + 1
        v2_form = c.post("batch", json={"cmd": {"a": "tasks.task.get?id=1"}})
        assert v2_form.json()["error"]["code"] == P + "INVALIDSELECTEXCEPTION"
    assert sandbox.counters.requests("batch") == 3


def test_eventlog_list_get_tail(v3: httpx.Client, sb: Sandbox) -> None:
    log = sb.store.eventlog
    got = v3.post("main.eventlog.get", json={"id": 3}).json()["result"]["item"]
    assert got["id"] == 3
    assert got["auditTypeId"] == log.rows[3]["AUDIT_TYPE_ID"]
    listed = v3.post("main.eventlog.list", json={"filter": [["severity", "=", "SECURITY"]],
                                                 "pagination": {"limit": 1000}}).json()["result"]["items"]
    assert [i["id"] for i in listed] == [int(r["ID"]) for r in log if r["SEVERITY"] == "SECURITY"]
    seen: list[int] = []
    cursor = {"field": "id", "value": 0, "order": "ASC", "limit": 97}
    while True:
        page = v3.post("main.eventlog.tail", json={"cursor": cursor, "select": ["id"]}).json()["result"]["items"]
        if not page:
            break
        seen += [i["id"] for i in page]
        cursor = {**cursor, "value": page[-1]["id"]}
    assert seen == log.ids
    desc = v3.post("main.eventlog.tail", json={"cursor": {"field": "id", "value": 10, "order": "DESC", "limit": 3}})
    assert [i["id"] for i in desc.json()["result"]["items"]] == [9, 8, 7]
    bad = v3.post("main.eventlog.tail", json={"cursor": {"field": "severity", "value": "x"}})
    assert bad.status_code == 400


def test_openapi_document(v3: httpx.Client) -> None:
    for method in ("rest.documentation.openapi", "documentation"):
        doc = v3.post(method).json()
        assert doc["openapi"].startswith("3.")
        assert "result" not in doc
        assert {"/tasks.task.get", "/tasks.task.list", "/main.eventlog.tail", "/rest.scope.list"} <= set(doc["paths"])
        schema = doc["paths"]["/tasks.task.get"]["post"]["requestBody"]["content"]["application/json"]["schema"]
        assert schema["required"] == ["id"]
        assert schema["properties"]["id"]["type"] == "integer"
    assert v3.get("documentation").json()["openapi"].startswith("3.")


def test_scope_list_and_scopes(v3: httpx.Client, sb: Sandbox) -> None:
    mapping = v3.post("rest.scope.list").json()["result"]["item"]
    assert mapping["tasks.task.add"] == "tasks"
    assert mapping["main.eventlog.tail"] == "main"
    limited = sb.add_webhook(scopes=["crm"])
    with v3_client(sb, limited) as c:
        r = c.post("tasks.task.get", json={"id": 1})
        assert r.status_code == 403
        assert r.json()["error"]["code"] == P + "INSUFFICIENTSCOPEEXCEPTION"


@pytest.mark.parametrize("method", ["crm.deal.list", "no.such.method"])
def test_v2_only_or_unknown_methods_on_v3(v3: httpx.Client, method: str) -> None:
    r = v3.post(method, json={})
    assert r.status_code == 404
    assert r.json()["error"]["code"] == P + "METHODNOTFOUNDEXCEPTION"
    inside = v3.post("batch", json=[{"method": method, "query": {}}])
    assert inside.json()["error"]["code"] == P + "METHODNOTFOUNDEXCEPTION"


def test_v3_wrong_secret(sb: Sandbox) -> None:
    with httpx.Client() as c:
        r = c.post(f"{sb.base_url}/rest/api/1/nope/tasks.task.get", json={"id": 1})
    assert r.status_code == 401
    assert r.json()["error"] == {"code": "INVALID_CREDENTIALS", "message": "Invalid request credentials"}


def test_v3_batch_references_and_object_keyed_form(make_sandbox: Callable[..., Sandbox]) -> None:
    sandbox = make_sandbox(deals=5)
    with v3_client(sandbox) as c:
        out = c.post("batch", json={
            "0": {"method": "tasks.task.add", "as": "made",
                  "query": {"fields": {"title": "Ref", "creatorId": 1, "responsibleId": 2}}},
            "1": {"method": "tasks.task.get", "query": {"id": {"$ref": "made.item.id"}, "select": ["id", "title"]}},
            "2": {"method": "tasks.task.list", "as": "few", "query": {"pagination": {"limit": 3}}},
            "3": {"method": "tasks.task.list",
                  "query": {"filter": [["id", "in", {"$refArray": "few.items.id"}]], "select": ["id"]}},
        })
        result = out.json()["result"]
        assert result[1]["item"]["title"] == "Ref"
        assert [i["id"] for i in result[3]["items"]] == [1, 2, 3]
        bad = c.post("batch", json=[{"method": "tasks.task.get", "query": {"id": {"$ref": "nowhere.item.id"}}}])
        assert bad.status_code == 400
        assert bad.json()["error"]["code"] == P + "INVALIDSELECTEXCEPTION"


def test_v3_batch_reference_to_a_list_collects_the_field_across_items(make_sandbox: Callable[..., Sandbox]) -> None:
    sandbox = make_sandbox(deals=5)
    picked = [2, 5, 9]
    users = {int(r["USER_ID"]) for r in sandbox.store.eventlog if int(r["ID"]) in picked}
    with v3_client(sandbox) as c:
        out = c.post("batch", json=[
            {"method": "main.eventlog.list", "as": "some",
             "query": {"filter": [["id", "in", picked]], "select": ["id", "userId"]}},
            {"method": "main.eventlog.list",
             "query": {"filter": [["userId", "in", {"$ref": "some.userId"}]], "select": ["id", "userId"],
                       "pagination": {"limit": 1000}}},
            {"method": "main.eventlog.list",
             "query": {"filter": [["id", "in", {"$refArray": "0.id"}]], "select": ["id"]}},
        ])
        assert out.status_code == 200
        first, by_user, by_id = out.json()["result"]
        assert sorted(i["id"] for i in first["items"]) == picked
        assert {i["userId"] for i in by_user["items"]} == users
        assert len(by_user["items"]) == sum(1 for r in sandbox.store.eventlog if int(r["USER_ID"]) in users)
        assert sorted(i["id"] for i in by_id["items"]) == picked
        add = {"fields": {"title": "Before", "creatorId": 1, "responsibleId": 1}}
        before = len(sandbox.store.tasks)
        missing = c.post("batch", json=[
            {"method": "tasks.task.add", "query": add},
            {"method": "main.eventlog.list", "as": "some", "query": {"filter": [["id", "in", picked]], "select": ["id"]}},
            {"method": "main.eventlog.list", "query": {"filter": [["userId", "in", {"$ref": "some.userId"}]]}},
        ])
        assert missing.status_code == 400
        assert missing.json()["error"]["code"] == P + "INVALIDSELECTEXCEPTION"
        assert len(sandbox.store.tasks) == before  # the add before the bad reference is rolled back
