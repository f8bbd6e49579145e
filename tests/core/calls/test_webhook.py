"""Webhook.parse follows the SDK's fromWebhookUrl rules; https except on loopback; never echoes the secret."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from b24explorer.core import SdkError, Webhook

SECRET = "k3y9secretvalue42"


@pytest.mark.parametrize(
    "url",
    [
        f"https://portal.bitrix24.com/rest/1/{SECRET}/",
        f"https://portal.bitrix24.com/rest/1/{SECRET}",
        f"https://portal.bitrix24.com/rest/api/1/{SECRET}/",
        f"  https://portal.bitrix24.com/rest/1/{SECRET}/?x=1#frag  ",
        f"HTTPS://portal.bitrix24.com:443/rest/1/{SECRET}//",
    ],
)
def test_accepts_v2_and_v3_forms(url: str) -> None:
    wh = Webhook.parse(url)
    assert (wh.portal, wh.user_id, wh.secret) == ("https://portal.bitrix24.com", 1, SECRET)
    assert wh.v2_base == f"https://portal.bitrix24.com/rest/1/{SECRET}"
    assert wh.v3_base == f"https://portal.bitrix24.com/rest/api/1/{SECRET}"
    assert wh.host == "portal.bitrix24.com"


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1:8080/rest/7/abcdefgh12/",
        "http://localhost/rest/7/abcdefgh12/",
        "http://[::1]:9/rest/7/abcdefgh12/",
    ],
)
def test_plain_http_only_for_loopback(url: str) -> None:
    wh = Webhook.parse(url)
    assert wh.user_id == 7
    assert wh.portal.startswith("http://")


def test_masked_everywhere() -> None:
    wh = Webhook.parse(f"https://portal.bitrix24.com/rest/1/{SECRET}/")
    assert str(wh) == "https://portal.bitrix24.com/rest/1/k3…42/"
    assert repr(wh) == "Webhook('https://portal.bitrix24.com/rest/1/k3…42/')"
    assert SECRET not in f"{wh} {wh!r} {wh.masked} {wh.masked_v3_base}"
    assert SECRET in wh.url  # only the explicit accessor


@pytest.mark.parametrize(
    ("url", "fragment"),
    [
        ("", "cannot be empty"),
        ("   ", "cannot be empty"),
        (f"http://portal.bitrix24.com/rest/1/{SECRET}/", "requires HTTPS"),
        (f"http://10.0.0.5/rest/1/{SECRET}/", "requires HTTPS"),
        ("https://portal.bitrix24.com/rest/1/", "has no secret"),
        ("https://portal.bitrix24.com/rest/1", "has no secret"),
        (f"https://portal.bitrix24.com/rest/admin/{SECRET}/", "must be numeric"),
        (f"https://portal.bitrix24.com/rest/1/{SECRET}/profile.json", "extra path segments"),
        (f"https://portal.bitrix24.com/rest/1/{SECRET}/crm.deal.list/", "extra path segments"),
        (f"https://portal.bitrix24.com/api/1/{SECRET}/", "must follow format"),
        (f"ftp://portal.bitrix24.com/rest/1/{SECRET}/", "Invalid webhook URL format"),
        (f"https://portal.bitrix24.com:99999/rest/1/{SECRET}/", "Invalid webhook URL format"),
        (f"https://user:{SECRET}@portal.bitrix24.com/rest/1/{SECRET}/", "user name or password"),
        (f"not a url {SECRET}", "Invalid webhook URL format"),
    ],
)
def test_rejects_with_clear_message_that_never_echoes_the_secret(url: str, fragment: str) -> None:
    with pytest.raises(SdkError) as info:
        Webhook.parse(url)
    err = info.value
    assert err.code == "WEBHOOK_INVALID"
    assert fragment in err.message
    assert SECRET not in f"{err} {err!r} {err.to_dict()} {err.args}"


_secret_chars = st.characters(codec="ascii", categories=("L", "N"), include_characters="_-")


@settings(max_examples=300, deadline=None)
@given(
    # Webhook codes mix letters and digits; a digit-free word could legitimately occur in a fixed message text.
    secret=st.text(_secret_chars, min_size=8, max_size=40).filter(
        lambda s: any(c.isdigit() for c in s) and any(c.isalpha() for c in s)
    ),
    scheme=st.sampled_from(["https", "http", "ftp", "", "htps"]),
    host=st.sampled_from(["portal.bitrix24.com", "127.0.0.1", "example.org", "", "[::1]", "a b"]),
    user=st.sampled_from(["1", "42", "x", "", "1a", "-1"]),
    prefix=st.sampled_from(["/rest/", "/rest/api/", "/", "/rest/rest/", "/api/"]),
    tail=st.sampled_from(["", "/", "/extra", "/crm.deal.list.json", "?a=1", "#f", "//"]),
)
def test_parse_errors_never_contain_the_secret(
    secret: str, scheme: str, host: str, user: str, prefix: str, tail: str
) -> None:
    url = (
        f"{scheme}://{host}{prefix}{user}/{secret}{tail}"
        if scheme
        else f"{host}{prefix}{user}/{secret}{tail}"
    )
    try:
        wh = Webhook.parse(url)
    except SdkError as err:
        shown = f"{err} {err!r} {err.message} {err.to_dict()}"
        assert secret not in shown
    else:
        assert wh.secret == secret
        assert secret not in f"{wh} {wh!r}"
