"""The authorization-code flow against the sandbox portal, headless: authorize page → redirect to the loopback
listener → code exchange at the OAuth server → calls with `auth` (v2, v3, batch, list-all)."""

from __future__ import annotations

import asyncio
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
from oauth_helpers import HeadlessBrowser, app_client, authorize, sandbox_app

from b24explorer.core import AjaxError
from b24explorer.core.oauth import (
    DEFAULT_OAUTH_SERVER,
    OAuthApp,
    OAuthCredentials,
    OAuthError,
    OAuthSession,
    TokenSet,
    authorize_url,
    exchange_code,
    new_state,
)
from b24explorer.core.oauth_redirect import RedirectListener


async def test_code_flow_gives_a_token_set_and_calls_run_as_the_app(app_portal) -> None:
    sb = app_portal
    browser = HeadlessBrowser()
    creds = await authorize(sb, browser)

    url = urlsplit(browser.urls[0])
    assert url.path == "/oauth/authorize/"
    query = parse_qs(url.query)
    assert query["client_id"] == [sb.portal.oauth.app.client_id]
    assert query["redirect_uri"][0].startswith("http://127.0.0.1:")
    assert "client_secret" not in url.query  # the secret goes to the OAuth server only
    page = await browser.last_page()
    assert page.status_code == 200
    assert "connected" in page.text

    tokens = creds.tokens
    assert creds.portal == sb.base_url
    assert tokens.access_token
    assert tokens.refresh_token
    assert tokens.access_token != tokens.refresh_token
    assert tokens.member_id == sb.portal.oauth.member_id
    assert "crm" in tokens.scopes
    assert tokens.user_id == 1
    assert tokens.status == "L"
    assert tokens.client_endpoint == f"{sb.base_url}/rest/"
    assert not tokens.expired()
    assert tokens.expires > 0
    assert sb.counters.requests("oauth/token:authorization_code") == 1

    async with app_client(OAuthSession(creds)) as client:
        info = await client.call("app.info")
        assert info.result["CODE"] == "local.sandbox"
        assert info.result["STATUS"] == "L"
        deals = await client.call("crm.deal.list", {"select": ["ID"]})
        assert deals.total == 120
        v3 = await client.call("tasks.task.list", {"select": ["id"]}, api=3)
        assert v3.is_success
        assert v3.result["items"]
        batch = await client.batch({"me": ["profile", {}], "opt": ["app.option.get", {}]})
        assert batch.is_success
        assert batch.rows[0].result["ADMIN"] is True
        v3_batch = await client.batch([["tasks.task.list", {"select": ["id"]}]], api=3)
        assert v3_batch.is_success
        every = await client.call_list("crm.deal.list", {"select": ["ID"]})
        assert len(every.items) == 120
        assert "auth" not in repr(client)
        assert creds.tokens.access_token not in repr(client)


async def test_an_app_only_method_answers_a_webhook_with_the_documented_error(app_portal) -> None:
    from b24explorer.core import B24Client, LimitsConfig

    async with B24Client(app_portal.webhook_url, limits=LimitsConfig.unlimited()) as hook_client:
        with pytest.raises(AjaxError) as denied:
            await hook_client.call("app.option.get")
        assert denied.value.code == "AccessException"
        assert "Application context required" in denied.value.message
        with pytest.raises(AjaxError) as caught:
            await hook_client.call("event.bind", {"event": "ONCRMDEALADD", "handler": "https://example.com/h"})
        assert caught.value.code == "WRONG_AUTH_TYPE"
        assert caught.value.status == 403


async def test_a_pasted_token_pair_works_like_an_authorized_one(app_portal) -> None:
    creds = await authorize(app_portal)
    pasted = OAuthCredentials(portal=app_portal.base_url, app=creds.app, tokens=TokenSet.pasted(
        f"  {creds.tokens.access_token} ", creds.tokens.refresh_token))
    async with app_client(OAuthSession(pasted)) as client:
        assert (await client.call("profile")).result["ID"] == "1"
    with pytest.raises(Exception, match="both the access token and the refresh token"):
        TokenSet.pasted("", "x")


async def test_a_wrong_state_is_ignored_and_the_right_one_is_taken() -> None:
    async with RedirectListener("expected-state") as listener:
        async with httpx.AsyncClient() as browser:
            foreign = await browser.get(listener.redirect_uri, params={"code": "c1", "state": "other"})
            assert foreign.status_code == 400
            probe = await browser.get(listener.redirect_uri + "favicon.ico")
            assert probe.status_code == 404
            ok = await browser.get(listener.redirect_uri, params={"code": "c2", "state": "expected-state",
                                                                   "member_id": "m1"})
            assert ok.status_code == 200
            late = await browser.get(listener.redirect_uri, params={"code": "c3", "state": "expected-state"})
            assert late.status_code == 410
        redirect = await listener.wait(1)
    assert redirect.code == "c2"
    assert redirect.member_id == "m1"


async def test_a_refused_authorization_and_a_missing_redirect_are_errors() -> None:
    async with RedirectListener("s") as listener, httpx.AsyncClient() as browser:
        await browser.get(listener.redirect_uri, params={"error": "access_denied", "state": "s"})
        with pytest.raises(OAuthError) as caught:
            await listener.wait(1)
    assert caught.value.code == "access_denied"
    async with RedirectListener("s") as quiet:
        with pytest.raises(Exception, match="No redirect arrived") as timed_out:
            await quiet.wait(0.05)
    assert timed_out.value.code == "OAUTH_REDIRECT_TIMEOUT"


async def test_token_endpoint_refusals_say_what_to_do(app_portal) -> None:
    sb = app_portal
    browser = HeadlessBrowser()
    state = new_state()
    async with RedirectListener(state) as listener:
        browser.open(authorize_url(sb.base_url, sb.portal.oauth.app.client_id, state, listener.redirect_uri))
        code = (await listener.wait(5)).code
    with pytest.raises(OAuthError) as wrong_secret:
        await exchange_code(sandbox_app(sb, client_secret="not-the-secret"), code)
    assert wrong_secret.value.code == "invalid_client"
    assert "check both values" in str(wrong_secret.value)
    assert "not-the-secret" not in str(wrong_secret.value)
    await exchange_code(sandbox_app(sb), code)
    with pytest.raises(OAuthError) as reused:
        await exchange_code(sandbox_app(sb), code)  # a code works once
    assert reused.value.code == "invalid_grant"
    assert "authorize the application again" in str(reused.value)
    await browser.last_page()


async def test_the_authorize_page_refuses_an_unknown_app_or_a_foreign_redirect(app_portal) -> None:
    base = app_portal.base_url
    async with httpx.AsyncClient() as browser:
        unknown = await browser.get(f"{base}/oauth/authorize/", params={"client_id": "local.nope", "state": "s",
                                                                        "redirect_uri": "http://127.0.0.1:9/"})
        foreign = await browser.get(f"{base}/oauth/authorize/", params={
            "client_id": app_portal.portal.oauth.app.client_id, "redirect_uri": "https://evil.example/"})
    assert unknown.status_code == 400
    assert "location" not in unknown.headers
    assert foreign.status_code == 400
    assert "location" not in foreign.headers


def test_bad_input_is_refused_with_a_clear_message() -> None:
    assert OAuthApp("id", "secret").oauth_server == DEFAULT_OAUTH_SERVER
    with pytest.raises(Exception, match="client id and its client secret"):
        OAuthApp("id", " ")
    with pytest.raises(Exception, match="https"):
        OAuthApp("id", "s", "http://oauth.example.com/oauth/token/")
    with pytest.raises(Exception, match="https"):
        authorize_url("http://portal.example.com", "id", "s")
    assert authorize_url("portal.example.com", "id", "s").startswith("https://portal.example.com/oauth/authorize/?")
    assert repr(OAuthApp("id", "hidden-secret")).count("hidden-secret") == 0


def test_credentials_survive_the_keyring_text_and_refuse_a_webhook_url() -> None:
    creds = OAuthCredentials("https://portal.example.com", OAuthApp("app.1", "sec-ret-value"),
                             TokenSet("acc-token-1234", "ref-token-5678", expires=1.5e9, member_id="m",
                                      scopes=("crm", "task"), client_endpoint="https://portal.example.com/rest/"))
    again = OAuthCredentials.from_keyring_text(creds.to_keyring_text())
    assert again == creds
    assert again.rest_base == "https://portal.example.com/rest"
    for secret in creds.secrets:
        assert secret not in str(creds)
        assert secret not in repr(creds)
    with pytest.raises(Exception, match="connect the application again"):
        OAuthCredentials.from_keyring_text("https://portal.example.com/rest/1/abcdefgh/")


async def test_concurrent_sign_ins_each_get_their_own_code(app_portal) -> None:
    first, second = await asyncio.gather(authorize(app_portal), authorize(app_portal))
    assert first.tokens.access_token != second.tokens.access_token
