"""The PHP/qs-style cmd encoder against the sandbox's own decoder, and UUIDv7 ids."""

from __future__ import annotations

import time
import uuid

from hypothesis import given, settings
from hypothesis import strategies as st

from b24explorer.core.encoding import php_query, uuid7
from b24explorer.sandbox.encoding import parse_query

_name = st.text(
    st.characters(codec="ascii", categories=("L", "N"), include_characters="_"), min_size=1, max_size=8
)
_top_key = _name.map(
    lambda s: "k" + s
)  # PHP rewrites "." and " " in top-level names; sequential digits become lists
_inner_key = st.text(
    st.characters(blacklist_characters="[]", blacklist_categories=("Cs",)), min_size=1, max_size=8
).map(lambda s: "x" + s)
_leaf = st.one_of(
    st.text(st.characters(blacklist_categories=("Cs",)), max_size=20), st.integers(-(10**9), 10**9)
)
_tree = st.recursive(
    _leaf,
    lambda children: st.one_of(
        st.lists(children, min_size=1, max_size=4),
        st.dictionaries(_inner_key, children, min_size=1, max_size=4),
    ),
    max_leaves=12,
)


def _as_strings(value):
    if isinstance(value, dict):
        return {k: _as_strings(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_as_strings(v) for v in value]
    return str(value)


@settings(max_examples=150, deadline=None)
@given(st.dictionaries(_top_key, _tree, min_size=1, max_size=5))
def test_round_trip_through_the_sandbox_decoder(params) -> None:
    assert parse_query(php_query(params)) == _as_strings(params)


async def test_awkward_text_survives_a_batch_over_the_wire(make_client, sb) -> None:
    title = "A&B=C?d#e%f+g [h] $result ü 日本 \"q\" 'r'\\n"
    client, _, _ = make_client(sb.webhook_url)
    async with client:
        res = await client.batch(
            {
                "add": ["crm.deal.add", {"fields": {"TITLE": title, "OPPORTUNITY": 10.5}}],
                "get": ["crm.deal.get", {"id": "$result[add]"}],
            }
        )
    assert res.is_success
    assert res["get"].result["TITLE"] == title
    assert res["get"].result["ID"] == str(res["add"].result)


def test_uuid7_is_time_ordered_and_versioned() -> None:
    first = uuid7()
    time.sleep(0.002)
    second = uuid7()
    assert uuid.UUID(first).version == 7
    assert uuid.UUID(first).variant == uuid.RFC_4122
    assert first < second
    assert abs(int(first.replace("-", "")[:12], 16) - time.time() * 1000) < 5_000
    assert len({uuid7() for _ in range(1000)}) == 1000
