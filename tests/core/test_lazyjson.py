"""The lazy reader reads what `json.loads` reads, one level at a time, and refuses what it refuses."""

from __future__ import annotations

import json
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from json_values import json_values

from b24explorer.core import jsondoc, lazyjson
from b24explorer.core.lazyjson import LazyArray, LazyObject

_json = json_values()



def walk(node: Any, expected: Any) -> None:
    """Read a lazy value level by level, the way the tree does, and compare each level with plain Python."""
    if lazyjson.is_lazy(node):
        assert json.loads(node.mini) == expected  # its text: a view of the body, or rebuilt from its children's
    if isinstance(expected, dict):
        assert isinstance(node, LazyObject | dict)
        assert len(node) == len(expected)
        assert list(node) == list(expected)
        for key, value in expected.items():
            assert key in node
            walk(node[key], value)
    elif isinstance(expected, list):
        assert isinstance(node, LazyArray | list)
        assert len(node) == len(expected)
        for i, value in enumerate(expected):
            walk(node[i], value)
        if expected:
            walk(node[-1], expected[-1])
        assert [lazyjson.materialize(v) for v in node[1:3]] == expected[1:3]
    else:
        assert node == expected or (node != node and expected != expected)
        assert type(node) is type(expected)


@pytest.fixture
def everything_lazy(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(lazyjson, "SMALL", 0)  # no container is small: every level is read lazily


@settings(max_examples=300, deadline=None)
@given(value=_json, indent=st.sampled_from([None, 2]))
def test_every_level_reads_as_json_loads_reads_it(value: Any, indent: int | None) -> None:
    raw = json.dumps(value, indent=indent, ensure_ascii=bool(indent)).encode()
    lazyjson.SMALL, small = 0, lazyjson.SMALL  # hypothesis and function fixtures do not mix: set it here
    try:
        root = lazyjson.lazy_root(raw)
        walk(root, json.loads(raw))
        assert lazyjson.materialize(root) == json.loads(raw)
        if lazyjson.is_lazy(root):
            assert json.loads(root.mini) == json.loads(raw)
            assert b"\n" not in root.mini
    finally:
        lazyjson.SMALL = small


def test_a_body_is_viewed_not_copied(everything_lazy: None) -> None:
    raw = json.dumps({"result": [{"ID": str(i)} for i in range(1000)], "total": 1000}).encode()
    root = lazyjson.lazy_root(raw)
    result = root["result"]
    assert isinstance(result, LazyArray)
    assert bytes(result.element_raw(7)) == b'{"ID": "7"}'
    assert root.at_pointer("/result/999/ID") == "999"
    assert root.at_pointer("/total") == 1000
    with pytest.raises(KeyError):
        root.at_pointer("/nothing")
    with pytest.raises(IndexError):
        result[1000]


def test_big_elements_decoded_once_are_kept_up_to_a_bound(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(lazyjson, "SMALL", 8)
    monkeypatch.setattr(lazyjson, "BIG_CHILDREN_KEPT", 4)
    array = lazyjson.lazy_root(json.dumps([{"k": i, "pad": "x" * 20} for i in range(10)]).encode())
    assert array[3] is array[3]  # kept: the view reads the same row many times
    for i in range(10):
        assert array[i]["k"] == i
    assert len(array._big) == 4


def test_numbers_msgspec_will_not_hold_are_read_as_python_reads_them(everything_lazy: None) -> None:
    root = lazyjson.lazy_root(b'{"a": [1e400, -1e400, 2], "b": 123456789012345678901234567890}')
    assert root["a"][0] == float("inf")
    assert root["a"][1] == float("-inf")
    assert root["b"] == 123456789012345678901234567890
    level = lazyjson.lazy_root(b'{"x": 1e400, "y": {"z": 1e400}}')  # out of range on the level split at once
    assert level["x"] == float("inf")
    assert level["y"]["z"] == float("inf")


@pytest.mark.parametrize(
    ("body", "where"),
    [
        (b'{"result": [1, 2,]}', (1, 18)),
        (b'{"result": {"a" 1}}', (1, 17)),
        (b'{"a": 1}\n{"b": 2}', (2, 1)),
        (b'{"a": "\\x"}', (1, 8)),
        (b"[1, 2", (1, 6)),
    ],
)
def test_malformed_bodies_fail_with_a_line_and_column(body: bytes, where: tuple[int, int]) -> None:
    with pytest.raises(jsondoc.JsonDecodeFailure) as info:
        jsondoc.parse(body)
    assert (info.value.line, info.value.column) == where


def test_a_body_that_is_not_utf8_is_refused_even_deep_inside() -> None:
    body = b'{"result": [' + b'{"ID": "1"},' * 300_000 + b'{"TITLE": "\xff"}]}'
    with pytest.raises(jsondoc.JsonDecodeFailure, match="not UTF-8"):
        jsondoc.parse(body)


@pytest.mark.parametrize("padding", [0, 5000])
def test_what_only_json_loads_accepts_is_still_read(padding: int) -> None:
    doc = jsondoc.parse(b'{"a": NaN, "b": "\\ud800", "c": "' + b"x" * padding + b'"}')
    assert doc.value("b") == "\ud800"
    assert doc.value("a") != doc.value("a")
    assert len(doc.value("c")) == padding
