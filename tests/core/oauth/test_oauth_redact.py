"""What redaction masks of an application's credentials without being told them: the `auth` parameter, the
token endpoint's query, a token answer, a bearer header."""

from __future__ import annotations

from b24explorer.core.redact import REDACTED, redact, redact_text

ACCESS, REFRESH, SECRET = "s1morf609228iwyjjpvfv6wsvuja4p8u", "4f9k4jpmg13usmybzuqknt2v9fh0q6rl", "LJSl0lNB76B5YY6u0Y"


def test_an_app_calls_auth_parameter_and_the_token_endpoints_query() -> None:
    call = f"https://portal.example.com/rest/crm.deal.list?auth={ACCESS}&start=50"
    token_url = (f"https://oauth.bitrix.info/oauth/token/?grant_type=refresh_token&client_id=app.1"
                 f"&client_secret={SECRET}&refresh_token={REFRESH}")
    for text in (call, token_url):
        masked = redact_text(text)
        for secret in (ACCESS, REFRESH, SECRET):
            assert secret not in masked
    assert "client_id=app.1" in redact_text(token_url)
    assert "start=50" in redact_text(call)


def test_a_token_answer_and_a_json_body_with_auth() -> None:
    answer = {"access_token": ACCESS, "refresh_token": REFRESH, "member_id": "m1", "expires_in": 3600}
    assert redact(answer) == {"access_token": REDACTED, "refresh_token": REDACTED, "member_id": "m1",
                              "expires_in": 3600}
    body = f'{{"auth":"{ACCESS}","select":["ID"]}}'
    assert ACCESS not in redact_text(body)
    assert '"select":["ID"]' in redact_text(body)


def test_a_bearer_header() -> None:
    assert redact({"Authorization": f"Bearer {ACCESS}"}) == {"Authorization": REDACTED}
    masked = redact_text(f"GET /rest/profile Authorization: Bearer {ACCESS} (401)")
    assert ACCESS not in masked
    assert masked.endswith("(401)")
    assert redact_text("a Bearer of good news") == "a Bearer of good news"
