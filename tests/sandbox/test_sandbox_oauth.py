"""The sandbox's application side over plain HTTP: the authorize page, the token endpoint (answers and documented
errors), expired tokens and the expire control call, the app-context methods, and `b24x sandbox`'s OAUTH line."""

from __future__ import annotations

import signal
from collections.abc import Iterator
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
from test_sandbox_cli_and_seed import start_cli

from b24explorer.sandbox import Sandbox

REDIRECT = "http://127.0.0.1:9/cb"


@pytest.fixture
def portal(make_sandbox: Any) -> Sandbox:
    return make_sandbox(deals=20)


@pytest.fixture
def web(portal: Sandbox) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=portal.base_url, timeout=30) as client:
        yield client


def get_code(web: httpx.Client, client_id: str, state: str = "st") -> dict[str, list[str]]:
    answer = web.get("/oauth/authorize/", params={"client_id": client_id, "state": state, "redirect_uri": REDIRECT})
    assert answer.status_code == 302
    location = answer.headers["location"]
    assert location.startswith(REDIRECT + "?")
    return parse_qs(urlsplit(location).query)


def tokens(web: httpx.Client, portal: Sandbox, **grant: str) -> httpx.Response:
    app = portal.portal.oauth.app
    return web.get("/oauth/token/", params={"client_id": app.client_id, "client_secret": app.client_secret, **grant})


def first_pair(web: httpx.Client, portal: Sandbox) -> dict[str, Any]:
    code = get_code(web, portal.portal.oauth.app.client_id)["code"][0]
    answer = tokens(web, portal, grant_type="authorization_code", code=code)
    assert answer.status_code == 200
    return answer.json()


def test_authorize_redirects_with_the_documented_parameters(portal: Sandbox, web: httpx.Client) -> None:
    query = get_code(web, portal.portal.oauth.app.client_id, "xyz")
    assert query["state"] == ["xyz"]
    assert query["member_id"] == [portal.portal.oauth.member_id]
    assert query["domain"] == [f"127.0.0.1:{portal.port}"]
    assert "crm" in query["scope"][0].split(",")
    assert len(query["code"][0]) >= 16


def test_token_answers_and_refusals(portal: Sandbox, web: httpx.Client) -> None:
    pair = first_pair(web, portal)
    assert set(pair) >= {"access_token", "refresh_token", "expires", "expires_in", "client_endpoint",
                         "server_endpoint", "domain", "member_id", "scope", "status", "user_id"}
    assert pair["expires_in"] == 3600
    assert pair["client_endpoint"] == f"{portal.base_url}/rest/"
    app = portal.portal.oauth.app
    renewed = web.post("/oauth/token/", data={"grant_type": "refresh_token", "client_id": app.client_id,
                                              "client_secret": app.client_secret,
                                              "refresh_token": pair["refresh_token"]})
    assert renewed.status_code == 200
    assert renewed.json()["refresh_token"] != pair["refresh_token"]
    again = tokens(web, portal, grant_type="refresh_token", refresh_token=pair["refresh_token"])
    assert again.status_code == 400
    assert again.json()["error"] == "invalid_grant"  # a refresh token works once
    wrong = web.get("/oauth/token/", params={"grant_type": "refresh_token", "client_id": app.client_id,
                                             "client_secret": "nope", "refresh_token": "x"})
    assert wrong.status_code == 401
    assert wrong.json()["error"] == "invalid_client"
    assert tokens(web, portal, grant_type="password").json()["error"] == "invalid_request"
    assert portal.counters.requests("oauth/token:refresh_token") == 3


def test_stale_tokens_answer_expired_token_until_renewed(portal: Sandbox, web: httpx.Client) -> None:
    pair = first_pair(web, portal)
    auth = {"auth": pair["access_token"]}
    assert web.post("/rest/profile", json=auth).json()["result"]["ID"] == "1"
    assert web.post(f"/_sandbox/{'0' * 16}/oauth/expire").status_code == 401
    assert web.post(f"{portal.control_url}oauth/expire").json() == {"result": {"expired": 1}}
    v2 = web.post("/rest/profile", json=auth)
    assert v2.status_code == 401
    assert v2.json()["error"] == "expired_token"
    v3 = web.post("/rest/api/tasks.task.list", json=auth)
    assert v3.status_code == 401
    assert v3.json()["error"]["code"] == "expired_token"
    assert web.post("/rest/profile", json={"auth": "never-issued"}).json()["error"] == "NO_AUTH_FOUND"
    renewed = tokens(web, portal, grant_type="refresh_token", refresh_token=pair["refresh_token"]).json()
    assert web.post("/rest/profile", json={"auth": renewed["access_token"]}).status_code == 200


def test_app_context_methods(portal: Sandbox, web: httpx.Client) -> None:
    token = first_pair(web, portal)["access_token"]

    def call(method: str, **params: Any) -> Any:
        return web.post(f"/rest/{method}", json={"auth": token, **params}).json()

    info = call("app.info")["result"]
    assert info["ID"] == 1
    assert info["INSTALLED"] is True
    assert call("app.option.get")["result"] == []
    assert call("app.option.set", options={"a": "1", "b": {"x": 2}})["result"] is True
    assert call("app.option.get", option="b")["result"] == {"x": 2}
    assert call("app.option.get")["result"] == {"a": "1", "b": {"x": 2}}
    assert call("app.option.set", options={})["error"] == "ArgumentNullException"

    assert call("event.bind", event="onCrmDealAdd", handler="https://h.example/e")["result"] is True
    assert call("event.bind", event="ONCRMDEALADD", handler="https://h.example/e")["error"] == (
        "ERROR_HANDLER_ALREADY_BINDED")
    assert call("event.get")["result"] == [{"event": "ONCRMDEALADD", "handler": "https://h.example/e",
                                            "auth_type": "0", "offline": 0}]
    assert call("event.unbind", event="ONCRMDEALADD", handler="https://h.example/e")["result"] == {"count": 1}
    assert call("event.get")["result"] == []

    assert call("placement.bind", PLACEMENT="CRM_DEAL_DETAIL_TAB", HANDLER="https://h.example/p",
                TITLE="Tab")["result"] is True
    assert [p["title"] for p in call("placement.get")["result"]] == ["Tab"]
    assert call("placement.bind", HANDLER="https://h.example/p")["error"] == "ERROR_ARGUMENT"
    assert call("placement.unbind", PLACEMENT="CRM_DEAL_DETAIL_TAB")["result"] == {"count": 1}
    assert portal.counters.writes("event.bind") == 1


def test_a_webhook_gets_the_documented_errors_for_app_methods(portal: Sandbox) -> None:
    with httpx.Client(base_url=portal.webhook_url) as hook:
        assert set(hook.post("app.info").json()["result"]) == {"SCOPE", "LICENSE"}  # describes the webhook
        assert hook.post("app.option.get").json()["error"] == "AccessException"
        for method in ("event.get", "placement.get"):
            answer = hook.post(method)
            assert answer.status_code == 403
            assert answer.json()["error"] == "WRONG_AUTH_TYPE"


def test_an_unlabelled_batch_mixes_computed_and_stored_answers(portal: Sandbox) -> None:
    with httpx.Client(base_url=portal.webhook_url) as hook:
        answer = hook.post("batch", json={"cmd": ["profile", "crm.deal.get?id=2"]})
    assert answer.status_code == 200
    rows = answer.json()["result"]["result"]
    assert rows[0]["ID"] == "1"
    assert rows[1]["ID"] == "2"


def test_cli_prints_the_registered_application_second() -> None:
    proc = start_cli("--deals", "5")
    try:
        assert proc.stdout is not None
        assert proc.stdout.readline().startswith("WEBHOOK ")
        line = proc.stdout.readline().split()
        assert line[0] == "OAUTH"
        fields = dict(part.split("=", 1) for part in line[1:])
        assert set(fields) == {"client_id", "client_secret", "server"}
        with httpx.Client() as web:
            base = fields["server"].removesuffix("/oauth/token/")
            location = web.get(f"{base}/oauth/authorize/", params={
                "client_id": fields["client_id"], "redirect_uri": REDIRECT}).headers["location"]
            code = parse_qs(urlsplit(location).query)["code"][0]
            pair = web.get(fields["server"], params={"grant_type": "authorization_code", "code": code,
                                                     "client_id": fields["client_id"],
                                                     "client_secret": fields["client_secret"]}).json()
            assert web.post(f"{base}/rest/app.info", json={"auth": pair["access_token"]}).json()["result"]["ID"] == 1
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=10) == 0
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
