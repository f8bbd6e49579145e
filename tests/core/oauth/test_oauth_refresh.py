"""Refresh without asking: an `expired_token` answer renews the pair once (one refresh however many calls meet
it), the new pair is saved, the call is re-sent; a refused refresh says what to do. Tokens never show."""

from __future__ import annotations

import asyncio

import httpx
import pytest
from oauth_helpers import app_client, authorize, sandbox_app

from b24explorer.core import AjaxError
from b24explorer.core.oauth import OAuthCredentials, OAuthSession


def expire_all(sb) -> int:
    answer = httpx.post(f"{sb.control_url}oauth/expire").json()
    return answer["result"]["expired"]


def refreshes(sb) -> int:
    return sb.counters.requests("oauth/token:refresh_token")


def assert_masked(client, *secrets: str) -> None:
    for record in client.log.history:
        text = f"{record.message} {record.context!r}"
        for secret in secrets:
            assert secret not in text, record.code


async def test_an_expired_token_is_renewed_saved_and_the_call_re_sent(app_portal) -> None:
    sb = app_portal
    creds = await authorize(sb)
    saved: list[OAuthCredentials] = []

    async def save(new: OAuthCredentials) -> None:
        saved.append(new)

    session = OAuthSession(creds, save=save)
    async with app_client(session) as client:
        assert (await client.call("profile")).result["ID"] == "1"
        assert expire_all(sb) >= 1
        res = await client.call("crm.deal.get", {"id": 3})
        assert res.result["ID"] == "3"
        assert refreshes(sb) == 1
        assert session.refreshes == 1
        assert sb.counters.requests("crm.deal.get") == 2  # the expired attempt and the re-sent one
        assert len(saved) == 1
        assert saved[0] is session.credentials
        assert session.access_token != creds.tokens.access_token
        assert session.credentials.tokens.refresh_token != creds.tokens.refresh_token
        assert session.credentials.app == creds.app
        assert session.credentials.portal == creds.portal
        assert "OAUTH_TOKEN_EXPIRED" in [r.code for r in client.log.history]
        await client.call("profile")
        assert refreshes(sb) == 1  # the new token just works
        assert_masked(client, *creds.secrets, *session.credentials.secrets)


async def test_two_concurrent_calls_meeting_an_expired_token_refresh_once(app_portal) -> None:
    sb = app_portal
    session = OAuthSession(await authorize(sb))
    async with app_client(session) as client:
        await client.call("profile")
        expire_all(sb)
        read, write = await asyncio.gather(
            client.call("crm.deal.list", {"select": ["ID"]}),
            client.call("app.option.set", {"options": {"theme": "dark"}}),
        )
        assert read.total == 120
        assert write.result is True
        assert refreshes(sb) == 1
        assert session.refreshes == 1
        assert sb.counters.writes("app.option.set") == 1  # the write ran once: its expired attempt did not run
        assert (await client.call("app.option.get", {"option": "theme"})).result == "dark"

        expire_all(sb)
        many = await asyncio.gather(*(client.call("crm.deal.get", {"id": i}) for i in range(1, 11)))
        assert [r.result["ID"] for r in many] == [str(i) for i in range(1, 11)]
        assert refreshes(sb) == 2  # ten calls, one more refresh


async def test_v3_batch_and_list_all_renew_too(app_portal) -> None:
    sb = app_portal
    session = OAuthSession(await authorize(sb))
    async with app_client(session) as client:
        expire_all(sb)
        assert (await client.call("tasks.task.list", {"select": ["id"]}, api=3)).is_success
        expire_all(sb)
        assert (await client.batch([["profile", {}], ["crm.deal.get", {"id": 1}]])).is_success
        expire_all(sb)
        assert len((await client.call_list("crm.deal.list", {"select": ["ID"]})).items) == 120
        assert refreshes(sb) == 3


async def test_a_token_that_stays_expired_is_not_refreshed_in_a_loop(app_portal) -> None:
    sb = app_portal
    session = OAuthSession(await authorize(sb))
    sb.faults.add("status", method="profile", count=2, status=401, code="expired_token")
    async with app_client(session) as client:
        with pytest.raises(AjaxError) as caught:
            await client.call("profile")
    assert caught.value.code == "expired_token"
    assert refreshes(sb) == 1
    assert sb.counters.requests("profile") == 2


async def test_a_refused_refresh_says_to_authorize_again_and_shows_no_token(app_portal) -> None:
    sb = app_portal
    creds = await authorize(sb)
    first, second = OAuthSession(creds), OAuthSession(creds)  # two holders of one pair: the first renews it
    async with app_client(first) as one, app_client(second) as other:
        expire_all(sb)
        await one.call("profile")
        with pytest.raises(AjaxError) as caught:
            await other.call("crm.deal.add", {"fields": {"TITLE": "never sent twice"}})
    err = caught.value
    assert err.code == "OAUTH_REFRESH_REFUSED"
    assert err.status == 401
    assert "authorize the application again" in err.message
    assert err.method == "crm.deal.add"
    assert err.request_id
    assert sb.counters.writes("crm.deal.add") == 0
    for secret in (*creds.secrets, *first.credentials.secrets):
        assert secret not in str(err)
        assert secret not in repr(err.to_dict())
    assert_masked(other, *creds.secrets)


async def test_a_refused_client_secret_says_to_check_the_app_card(app_portal) -> None:
    sb = app_portal
    creds = await authorize(sb)
    wrong = OAuthCredentials(creds.portal, sandbox_app(sb, client_secret="a-wrong-client-secret"), creds.tokens)
    async with app_client(OAuthSession(wrong)) as client:
        expire_all(sb)
        with pytest.raises(AjaxError) as caught:
            await client.call("profile")
    assert caught.value.code == "OAUTH_REFRESH_REFUSED"
    assert "client secret" in caught.value.message
    assert "application's card" in caught.value.message
    assert "a-wrong-client-secret" not in str(caught.value)


async def test_tokens_that_cannot_be_saved_still_work_and_say_so(app_portal) -> None:
    sb = app_portal

    async def broken_save(_: OAuthCredentials) -> None:
        raise RuntimeError("keyring is locked")

    session = OAuthSession(await authorize(sb), save=broken_save)
    async with app_client(session) as client:
        expire_all(sb)
        assert (await client.call("profile")).result["ID"] == "1"
        warnings = [r for r in client.log.history if r.code == "OAUTH_TOKENS_NOT_SAVED"]
        assert len(warnings) == 1
        assert "keyring is locked" in warnings[0].message


async def test_a_token_known_to_be_expired_is_renewed_before_the_call(app_portal) -> None:
    import time

    sb = app_portal
    creds = await authorize(sb)
    later = [time.time()]
    session = OAuthSession(creds, now=lambda: later[0])
    async with app_client(session) as client:
        await client.call("profile")
        later[0] += 3601  # this machine's clock says the hour is over
        await client.call("profile")
        await client.call("profile")
    assert refreshes(sb) == 1
    assert sb.counters.requests("profile") == 3  # no request went out with the expired token
