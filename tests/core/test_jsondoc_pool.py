"""The simdjson parser pool: a parser is reused only once nothing refers to its document any more."""

from __future__ import annotations

import gc
import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from b24explorer.core import jsondoc

pytest.importorskip("simdjson")


def body(n: int) -> bytes:
    return json.dumps({"result": [{"ID": str(i), "TITLE": f"deal {i}"} for i in range(n)], "total": n}).encode()


def test_an_idle_parser_is_reused() -> None:
    pool = jsondoc.ParserPool()
    root, first = pool.parse(body(3))
    del root
    gc.collect()
    root, again = pool.parse(body(5))
    assert again is first
    assert root.as_dict() == json.loads(body(5))


def test_a_parser_whose_document_is_shown_is_not_reused() -> None:
    pool = jsondoc.ParserPool()
    old_root, first = pool.parse(body(3))
    new_root, second = pool.parse(body(5))
    assert second is not first
    assert old_root.as_dict() == json.loads(body(3))  # the earlier document is intact
    assert new_root.as_dict() == json.loads(body(5))


def test_a_view_of_a_child_keeps_its_parser_busy() -> None:
    pool = jsondoc.ParserPool()
    root, first = pool.parse(body(4))
    deal = root["result"][2]
    del root
    gc.collect()
    _, second = pool.parse(body(7))
    assert second is not first
    assert deal.as_dict() == {"ID": "2", "TITLE": "deal 2"}


def test_idle_parsers_beyond_the_spares_are_dropped() -> None:
    pool = jsondoc.ParserPool(spares=1)
    roots = [pool.parse(body(i + 1))[0] for i in range(4)]
    assert len(pool) == 4
    del roots
    gc.collect()
    in_use, _ = pool.parse(body(2))
    assert len(pool) == 2
    assert in_use.as_dict() == json.loads(body(2))  # the one just used and one spare


def test_a_parser_of_a_much_bigger_document_is_dropped_for_a_small_one() -> None:
    pool = jsondoc.ParserPool(small=0, spare_limit=100)
    big, big_parser = pool.parse(body(200))
    del big
    gc.collect()
    small, used = pool.parse(body(1))
    assert used is not big_parser
    assert len(pool) == 1  # the big one's buffers are let go
    assert small.as_dict() == json.loads(body(1))
    del small
    gc.collect()
    _, again = pool.parse(body(2))  # a body of a similar size reuses the small parser
    assert again is used


def test_a_parser_of_a_big_document_is_not_kept_idle() -> None:
    pool = jsondoc.ParserPool(spare_limit=100, small=0)
    big, big_parser = pool.parse(body(50))
    small, _ = pool.parse(body(1))
    del big, small
    gc.collect()
    _, used = pool.parse(body(1))
    _, other = pool.parse(body(1))  # `used` is busy now; the big one was dropped rather than kept as spare
    assert big_parser not in (used, other)


def test_documents_come_from_the_pool() -> None:
    doc = jsondoc.parse(body(3))
    assert doc.lazy
    assert doc._parser is not None
    assert jsondoc.materialize(doc.get("result")) == json.loads(body(3))["result"]


@settings(max_examples=60, deadline=None)
@given(st.lists(st.tuples(st.booleans(), st.integers(min_value=0, max_value=30)), min_size=1, max_size=40))
def test_live_documents_stay_intact_whatever_is_parsed_or_dropped(steps: list[tuple[bool, int]]) -> None:
    pool = jsondoc.ParserPool(spares=1, most=5)
    live: list[tuple[object, bytes]] = []
    for parse_one, n in steps:
        if parse_one or not live:
            raw = body(n)
            root, _ = pool.parse(raw)
            live.append((root, raw))
        else:
            live.pop(n % len(live))
            gc.collect()
        for root, raw in live:
            assert root.as_dict() == json.loads(raw)  # type: ignore[attr-defined]
