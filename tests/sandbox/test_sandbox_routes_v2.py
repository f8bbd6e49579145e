"""REST v2 routes, request decoding, envelopes and the system methods, over real loopback HTTP."""

from __future__ import annotations

import json

import httpx
import pytest

from b24explorer.sandbox import Sandbox

TIME_FIELDS = {"start", "finish", "duration", "processing", "date_start", "date_finish", "operating",
               "operating_reset_at"}


def test_webhook_url_shape(sb: Sandbox) -> None:
    assert sb.webhook_url == f"http://127.0.0.1:{sb.port}/rest/1/{sb.secret}/"
    assert sb.base_url == f"http://127.0.0.1:{sb.port}"


@pytest.mark.parametrize("suffix", ["profile", "profile.json", "profile/", "PROFILE", "Profile.json/"])
def test_method_path_forms(http: httpx.Client, suffix: str) -> None:
    r = http.post(suffix)
    assert r.status_code == 200
    assert r.json()["result"]["ID"] == "1"


def test_time_block_on_every_answer(http: httpx.Client) -> None:
    body = http.get("server.time").json()
    assert set(body["time"]) >= TIME_FIELDS
    t = body["time"]
    assert t["finish"] >= t["start"]
    assert t["duration"] == pytest.approx(t["finish"] - t["start"])
    assert isinstance(t["operating_reset_at"], int)
    assert body["result"].endswith("+03:00")


def test_get_query_and_json_and_form_and_multipart_agree(http: httpx.Client, sb: Sandbox) -> None:
    want = [str(i) for i in range(6, 11)]
    via_get = http.get("crm.deal.list", params={"filter[>ID]": "5", "filter[<=ID]": "10", "select[]": "ID"})
    via_pct = http.get("crm.deal.list?filter%5B%3EID%5D=5&filter%5B%3C%3DID%5D=10&select%5B0%5D=ID")
    via_json = http.post("crm.deal.list", json={"filter": {">ID": 5, "<=ID": 10}, "select": ["ID"]})
    via_form = http.post("crm.deal.list", data={"filter[>ID]": "5", "filter[<=ID]": "10", "select[0]": "ID"})
    via_multipart = http.post("crm.deal.list", files={"filter[>ID]": (None, "5"), "filter[<=ID]": (None, "10"),
                                                      "select[]": (None, "ID")})
    for r in (via_get, via_pct, via_json, via_form, via_multipart):
        assert r.status_code == 200, r.text
        assert [d["ID"] for d in r.json()["result"]] == want
        assert list(r.json()["result"][0]) == ["ID"]


def test_nested_php_keys_in_form_body(http: httpx.Client, sb: Sandbox) -> None:
    r = http.post("crm.contact.add", data={"fields[NAME]": "Jo & Co", "fields[LAST_NAME]": "Smith",
                                           "fields[PHONE][0][VALUE]": "112233"})
    new_id = r.json()["result"]
    assert isinstance(new_id, int)
    assert sb.store.contacts.rows[new_id]["NAME"] == "Jo & Co"
    sb.store.contacts.delete(new_id)


def test_query_string_merges_under_body(http: httpx.Client) -> None:
    r = http.post("crm.deal.get?id=1", json={"id": 2})
    assert r.json()["result"]["ID"] == "2"
    r = http.post("crm.deal.get?id=3", json={})
    assert r.json()["result"]["ID"] == "3"


def test_wrong_secret_and_wrong_user(sb: Sandbox) -> None:
    with httpx.Client() as c:
        for url in (f"{sb.base_url}/rest/1/wrongsecret/profile", f"{sb.base_url}/rest/2/{sb.secret}/profile"):
            r = c.post(url)
            assert r.status_code == 401
            assert r.json() == {"error": "INVALID_CREDENTIALS", "error_description": "Invalid request credentials"}
        # no credentials at all is another error; the method is looked up before the credentials
        r = c.post(f"{sb.base_url}/rest/profile")
        assert r.status_code == 401
        assert r.json()["error"] == "NO_AUTH_FOUND"
        r = c.post(f"{sb.base_url}/rest/1/wrongsecret/no.such.method")
        assert r.status_code == 404
        assert r.json()["error"] == "ERROR_METHOD_NOT_FOUND"


def test_unknown_method_and_v3_only_method_on_v2(http: httpx.Client) -> None:
    for method in ("crm.deal.nonexistent", "main.eventlog.list", "rest.documentation.openapi", "rest.scope.list"):
        r = http.post(method)
        assert r.status_code == 404
        assert r.json()["error"] == "ERROR_METHOD_NOT_FOUND"


def test_unknown_routes_answer_json_404(sb: Sandbox) -> None:
    with httpx.Client() as c:
        for path in ("/", "/favicon.ico", "/rest/", "/rest/1/", f"/rest/1/{sb.secret}/", "/something/else"):
            r = c.get(sb.base_url + path)
            assert r.status_code == 404
            assert r.json()["error"] == "ERROR_METHOD_NOT_FOUND"


def test_limited_scope_webhook(sb: Sandbox) -> None:
    url = sb.add_webhook(user_id=1, scopes=["crm"])
    with httpx.Client(base_url=url) as c:
        assert c.post("crm.deal.get", json={"id": 1}).status_code == 200
        denied = c.post("user.current")
        assert denied.status_code == 403
        assert denied.json()["error"] == "insufficient_scope"
        assert c.post("tasks.task.list").json()["error"] == "insufficient_scope"
        assert c.post("scope").json()["result"] == ["crm"]
        assert c.post("profile").status_code == 200  # basic methods need no scope
        assert c.post("method.get", json={"name": "user.current"}).json()["result"] == {
            "isExisting": True, "isAvailable": False}
    user_url = sb.add_webhook(user_id=2, scopes=["user_brief"])
    with httpx.Client(base_url=user_url) as c:
        assert c.post("user.current").json()["result"]["ID"] == "2"


def test_system_methods(http: httpx.Client) -> None:
    profile = http.post("profile").json()["result"]
    assert profile["ADMIN"] is True
    assert profile["ID"] == "1"
    current = http.post("user.current").json()["result"]
    assert current["ID"] == "1"
    assert current["UF_DEPARTMENT"] == [1]
    scopes = http.post("scope").json()["result"]
    assert {"crm", "task", "user", "department"} <= set(scopes)
    methods = http.post("methods").json()["result"]
    assert "crm.deal.list" in methods
    assert "batch" in methods
    assert "main.eventlog.list" not in methods
    assert http.post("method.get", json={"name": "CRM.DEAL.LIST"}).json()["result"] == {
        "isExisting": True, "isAvailable": True}
    assert http.post("method.get", json={"name": "no.such"}).json()["result"] == {
        "isExisting": False, "isAvailable": False}
    assert http.post("method.get").json()["result"] == {"isExisting": False, "isAvailable": False}
    app = http.post("app.info").json()["result"]  # through a webhook: its scopes and the portal's plan
    assert set(app) == {"SCOPE", "LICENSE"}
    assert set(app["SCOPE"]) == set(scopes)
    assert app["LICENSE"]
    full = http.post("scope", json={"full": True}).json()["result"]
    # every permission of the docs' scope table, also those no served method uses
    assert {"crm", "task", "user", "user_brief", "user_basic", "im", "imbot", "disk", "calendar"} <= set(full)
    assert set(scopes) <= set(full)
    feature = http.post("feature.get")
    assert feature.json()["error"] == "CODE_EMPTY"
    assert http.post("feature.get", json={"CODE": "rest_offline_extended"}).json()["result"] == {"value": "Y"}


def test_users_and_departments(http: httpx.Client, sb: Sandbox) -> None:
    users = http.post("user.get").json()
    active = [u for u in sb.store.users if u["ACTIVE"]]
    assert users["total"] == len(active)
    assert all(u["ACTIVE"] is True for u in users["result"])
    assert http.get("user.get?ID=3").json()["result"][0]["ID"] == "3"
    assert http.post("user.get", json={"FILTER": {"ID": 2}}).json()["result"][0]["ID"] == "2"
    deps = http.post("department.get").json()
    assert deps["total"] == len(sb.store.departments)
    assert deps["result"][0]["NAME"] == sb.store.departments.rows[1]["NAME"]
    assert [d["ID"] for d in http.post("department.get", json={"PARENT": 1}).json()["result"]] == ["2", "3", "4", "5"]


def test_string_ids_and_yn_booleans(http: httpx.Client) -> None:
    deal = http.post("crm.deal.get", json={"id": 1}).json()["result"]
    assert deal["ID"] == "1"
    assert deal["OPENED"] in ("Y", "N")
    assert deal["CLOSED"] in ("Y", "N")
    assert isinstance(deal["OPPORTUNITY"], str)
    assert "." in deal["OPPORTUNITY"]
    assert isinstance(deal["ASSIGNED_BY_ID"], str)


def test_error_bodies_are_json_with_code_and_description(http: httpx.Client) -> None:
    r = http.post("crm.deal.get", json={"id": 999999})
    assert r.status_code == 400
    assert r.json() == {"error": "", "error_description": "Not found"}
    r = http.post("crm.deal.get")
    assert r.status_code == 400
    assert r.headers["content-type"].startswith("application/json")
    json.loads(r.content)


def test_app_style_calls_with_auth_token(sb: Sandbox) -> None:
    limited = sb.add_webhook(user_id=3, scopes=["crm"])
    token = limited.rstrip("/").rsplit("/", 1)[1]
    with httpx.Client(base_url=sb.base_url) as c:
        assert c.get(f"/rest/profile.json?auth={sb.secret}").json()["result"]["ID"] == "1"
        assert c.post("/rest/crm.deal.get", json={"auth": token, "id": 4}).json()["result"]["ID"] == "4"
        assert c.post("/rest/profile", json={"auth": token}).json()["result"]["ID"] == "3"
        assert c.post("/rest/user.current", json={"auth": token}).json()["error"] == "insufficient_scope"
        for bad in ({}, {"auth": "nope"}, {"auth": ["x"]}):
            r = c.post("/rest/profile", json=bad)
            assert r.status_code == 401
            assert r.json()["error"] == "NO_AUTH_FOUND"
        v3 = c.post("/rest/api/tasks.task.get", json={"auth": sb.secret, "id": 1})
        assert v3.json()["result"]["item"]["id"] == 1
        assert c.post("/rest/api/tasks.task.get", json={"id": 1}).json()["error"]["code"] == "NO_AUTH_FOUND"
