"""Fuzzing of the Qt-free parts: webhook parsing and the PHP-style batch encoder against the sandbox's decoder."""

from __future__ import annotations

import asyncio
import string
from typing import Any

import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st
from rel_stats import count, examples

from b24explorer.core import B24Client, LimitsConfig, SdkError, Webhook
from b24explorer.core.encoding import batch_command, php_query

# --- webhook parsing ------------------------------------------------------------------------------------------

# A secret mixes letters and digits, so it can never appear by chance inside a fixed English message.
_ALNUM = string.ascii_lowercase + string.digits
secrets_st = st.builds(
    lambda letters, digits, tail: "".join(letters) + "".join(digits) + tail,
    st.lists(st.sampled_from(string.ascii_lowercase), min_size=3, max_size=8),
    st.lists(st.sampled_from(string.digits), min_size=3, max_size=6),
    st.text(alphabet=_ALNUM + "_-.~%", min_size=0, max_size=20),
)
hosts_st = st.sampled_from(
    ["portal.bitrix24.com", "127.0.0.1", "localhost", "[::1]", "example.org", "10.0.0.5", "b24-xy.bitrix24.de",
     "", "portal.bitrix24.com:8443", "127.0.0.1:0", "host:99999", "[fe80::1", "user:pw@portal.bitrix24.com"]
)
schemes_st = st.sampled_from(["https", "http", "HTTPS", "ftp", "", "https:/", "javascript"])
users_st = st.one_of(st.integers(0, 10**6).map(str), st.text(alphabet=_ALNUM + " -", max_size=5))
junk_st = st.text(max_size=12)


@st.composite
def webhook_urls(draw: Any) -> tuple[str, str]:
    secret = draw(secrets_st)
    scheme, host, user = draw(schemes_st), draw(hosts_st), draw(users_st)
    api = draw(st.sampled_from(["", "api/"]))
    before = draw(st.sampled_from(["", "/", "//", "/extra"]))
    after = draw(st.sampled_from(["", "/", "//", "/crm.deal.list", "/crm.deal.list/", "/x/y"]))
    tail = draw(st.sampled_from(["", "?a=1", "#frag", "?secret=" + secret, " ", "\n"]))
    sep = draw(st.sampled_from(["://", ":/", ":///", "//"]))
    path = f"{before}/rest/{api}{user}/{secret}{after}"
    if draw(st.booleans()):
        path = path.replace("/rest/", draw(st.sampled_from(["/rest//", "/REST/", "/rst/", "/rest/rest/"])), 1)
    url = f"{scheme}{sep}{host}{path}{tail}"
    if draw(st.booleans()):
        pos = draw(st.integers(0, len(url)))
        url = url[:pos] + draw(junk_st) + url[pos:]
    return url, secret


def _check_no_echo(url: str, secret: str) -> None:
    try:
        hook = Webhook.parse(url)
    except SdkError as exc:
        err = exc
    else:
        err = None
    if err is not None:
        assert err.code == "WEBHOOK_INVALID"
        for text in (err.message, str(err), repr(err), repr(err.to_dict())):
            assert secret not in text, f"the error echoes the secret: {text!r}"
            assert url.strip() not in text or len(url.strip()) < 4
        return
    # Accepted: only the secret accessor shows it.
    for text in (str(hook), repr(hook), hook.masked, hook.masked_v3_base, hook.portal, hook.host):
        assert hook.secret not in text
    assert hook.url.startswith(hook.portal)
    assert hook.url.endswith(f"/{hook.secret}/")


@settings(max_examples=examples(200), deadline=None)
@given(webhook_urls())
def test_fuzz_webhook_parse_never_echoes_the_secret(case: tuple[str, str]) -> None:
    url, secret = case
    count("fuzz.webhook")
    _check_no_echo(url, secret)


@settings(max_examples=examples(100), deadline=None)
@given(st.text(max_size=200))
def test_fuzz_webhook_parse_any_text(text: str) -> None:
    """Any text: a Webhook or a WEBHOOK_INVALID error, never another exception; never echoed when long."""
    count("fuzz.webhook")
    err: SdkError | None = None
    try:
        Webhook.parse(text)
    except SdkError as exc:
        err = exc
    if err is not None:
        assert err.code == "WEBHOOK_INVALID"
        if len(text.strip()) >= 6:
            assert text.strip() not in err.message


def test_valid_webhooks_round_trip() -> None:
    hook = Webhook.parse("https://portal.bitrix24.com/rest/api/7/abc123def456/?x=1#y")
    assert (hook.user_id, hook.secret, hook.portal) == (7, "abc123def456", "https://portal.bitrix24.com")
    assert "abc123def456" not in repr(hook)


# --- the PHP-style batch encoder against the sandbox's decoder --------------------------------------------------

# Characters that mean something in a query string or to PHP, mixed with arbitrary text.
TRICKY = [*"&=?#%+;,/:@!$'()*~._- \\\"\n\t\x00é€日😀\u2028\u00a0><[]", "%5B", "%5D", "%26", "a[b]", "[]"]
# Keys: anything but brackets (PHP cannot carry them in a key) and not empty (`a[]` means "append").
keys_st = st.one_of(
    st.text(alphabet=st.characters(blacklist_characters="[]", blacklist_categories=("Cs",)), min_size=1, max_size=8),
    st.lists(st.sampled_from([t for t in TRICKY if "[" not in t and "]" not in t]), min_size=1, max_size=4).map(
        "".join),
)
text_values = st.one_of(
    st.text(alphabet=st.characters(blacklist_categories=("Cs",)), max_size=20),
    st.lists(st.sampled_from(TRICKY), max_size=10).map("".join),
).filter(lambda s: "$result[" not in s)
scalars_st = st.one_of(
    st.none(), st.booleans(), st.integers(-(10**15), 10**15),
    st.floats(allow_nan=False, allow_infinity=False, width=64), text_values,
)
values_st = st.recursive(
    scalars_st,
    lambda children: st.one_of(st.lists(children, max_size=5), st.dictionaries(keys_st, children, max_size=5)),
    max_leaves=15,
)
params_st = st.dictionaries(keys_st, values_st, max_size=6)


def php_scalar(value: Any) -> str:
    """What PHP receives for a scalar in a query string (the JS SDK's `qs` conventions)."""
    if value is True:
        return "true"
    if value is False:
        return "false"
    if value is None:
        return ""
    if isinstance(value, float):
        return str(int(value)) if value.is_integer() and abs(value) < 1e21 else repr(value)
    return str(value)


_ABSENT = object()


def php_view(value: Any) -> Any:
    """The params as a PHP portal sees them after decoding: strings at the leaves, arrays with keys 0..n-1 as
    lists, empty arrays gone (a query string cannot say "empty")."""
    if isinstance(value, dict | list):
        items = value.items() if isinstance(value, dict) else enumerate(value)
        out = {}
        for k, v in items:
            seen = php_view(v)
            if seen is not _ABSENT:
                out[str(k)] = seen
        if not out:
            return _ABSENT
        if all(k == str(i) for i, k in enumerate(out)):
            return list(out.values())
        return out
    return php_scalar(value)


def expected_params(params: dict[str, Any]) -> Any:
    seen = php_view(params)
    if seen is _ABSENT:
        return {}
    return seen


_PORTAL: list[Any] = []


def sandbox_decode(command: str) -> tuple[str, Any]:
    """The sandbox's own decoding of a v2 batch command: `Portal._parse_command`, with no earlier results."""
    if not _PORTAL:
        from b24explorer.sandbox import Sandbox

        _PORTAL.append(Sandbox(seed=1, deals=1, plan="unlimited").portal)  # not started: just its decoder
    return _PORTAL[0]._parse_command(command, {})


@settings(max_examples=examples(150), deadline=None)
@given(params_st)
def test_fuzz_batch_encoder_round_trips_through_the_sandbox_decoder(params: dict[str, Any]) -> None:
    count("fuzz.encoder")
    command = batch_command("crm.deal.list", params)
    name, decoded = sandbox_decode(command)
    assert name == "crm.deal.list"
    assert decoded == expected_params(params)
    assert " " not in command
    assert "\n" not in command


def test_encoder_known_shapes() -> None:
    assert php_query({"filter": {">ID": 0}, "select": ["ID", "TITLE"]}) == (
        "filter%5B%3EID%5D=0&select%5B0%5D=ID&select%5B1%5D=TITLE"
    )
    assert sandbox_decode(batch_command("x", {"a": {"b": [1, {"c": None}]}}))[1] == {"a": {"b": ["1", {"c": ""}]}}


class _Spy:
    """Wraps the sandbox portal's batch-command decoder to record what the server decoded, over real HTTP."""

    def __init__(self, portal: Any) -> None:
        self.seen: list[tuple[str, Any]] = []
        self._inner = portal._parse_command

    def __call__(self, command: Any, results: dict[str, Any]) -> tuple[str, Any]:
        name, params = self._inner(command, results)
        self.seen.append((name, params))
        return name, params


@pytest.fixture(scope="module")
def http_batch(make_sandbox_module: Any) -> Any:
    sandbox = make_sandbox_module
    spy = _Spy(sandbox.portal)
    sandbox.portal._parse_command = spy
    loop = asyncio.new_event_loop()
    client = B24Client(sandbox.webhook_url, limits=LimitsConfig.unlimited(), timeout=20)
    yield loop, client, spy
    loop.run_until_complete(client.aclose())
    loop.close()


@pytest.fixture(scope="module")
def make_sandbox_module() -> Any:
    from b24explorer.sandbox import Sandbox

    with Sandbox(seed=3, deals=60, plan="unlimited") as sandbox:
        yield sandbox


@settings(max_examples=examples(15), deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.lists(params_st, min_size=1, max_size=8))
def test_fuzz_batch_encoder_over_http(http_batch: Any, many: list[dict[str, Any]]) -> None:
    """Real batch requests: what the sandbox decoded from each command equals the params as PHP sees them."""
    loop, client, spy = http_batch
    assume(all(len(batch_command("server.time", p)) < 6000 for p in many))
    count("fuzz.encoder_http", len(many))
    spy.seen.clear()
    commands = {f"c{i}": ["server.time", p] for i, p in enumerate(many)}
    batch = loop.run_until_complete(client.batch(commands, halt=False))
    assert batch.is_success, batch.error_messages
    assert [name for name, _ in spy.seen] == ["server.time"] * len(many)
    assert [decoded for _, decoded in spy.seen] == [expected_params(p) for p in many]
