"""Text search over the keys and values of a JSON value, in document order (Qt-free).

`iter_matches` is a generator the response view drives in short timer slices: it yields a path for each
node whose key or displayed value contains the needle (case-insensitive), and `None` every few hundred
nodes so the caller can check its time budget and stay responsive. On a lazy document, a big array's
elements are first tested as their JSON text in the body (one C call, nothing decoded): an element whose
text does not hold the needle, and that has no escape sequence that could spell it differently, is skipped
without visiting its nodes.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

from . import json_node as jn

TICK_EVERY = 256
PREFILTER_MIN_ELEMENTS = 32
SKIP_TICK_EVERY = 64
_SKIPPED: Any = object()


def value_search_text(value: Any) -> str:
    """The text a scalar is searched by: a string as is, anything else as JSON."""
    return value if isinstance(value, str) else jn.scalar_text(value)


def _prefilter_safe(needle: str) -> bool:
    """Whether "not in the element's compact JSON" can prove "not in any of its keys or values".

    True for needles that JSON text writes the way the tree shows them: no quote, backslash or control
    characters (those are escaped in JSON text).
    """
    return bool(needle) and not any(c in '"\\' or ord(c) < 0x20 for c in needle)


# An unquoted number with a fraction or exponent: the body and Python may spell those differently
# (1e16 / 1.0e16 / 1e+16), so an element holding one is never skipped for a needle with digits.
_FLOAT_LITERAL = re.compile(rb"[:,\[]\s*-?\d+[.eE]")


def _may_contain(text: bytes, folded: str, needle_has_digits: bool) -> bool:
    """False only when no key or value of the element whose JSON text this is can contain the needle."""
    if b"\\" in text:  # an escape (`\/`, `\u00e9`): the shown text differs from the body's
        return True
    if needle_has_digits and _FLOAT_LITERAL.search(text):
        return True
    if text.isascii() and folded.isascii():
        return folded.encode() in text.lower()
    return folded in text.decode("utf-8", "replace").casefold()


def iter_matches(root: Any, needle: str) -> Iterator[jn.Path | None]:
    """Paths of nodes whose key or scalar value contains `needle` (case-insensitive), in document order."""
    folded = needle.casefold()
    if not folded:
        return
    prefilter = _prefilter_safe(folded)
    seen = 0
    # a frame: (container path, iterator of (key or index, child))
    stack: list[tuple[jn.Path, Iterator[tuple[jn.PathPart, Any]]]] = []
    if jn.is_container(root):
        stack.append(((), _children(root, prefilter and jn.is_lazy(root), folded)))
    elif folded in value_search_text(root).casefold():
        yield ()
        return
    while stack:
        path, it = stack[-1]
        step = next(it, None)
        if step is None:
            stack.pop()
            continue
        key, child = step
        if key is _SKIPPED:
            yield None
            continue
        seen += 1
        if seen % TICK_EVERY == 0:
            yield None
        child_path = (*path, key)
        is_container = isinstance(child, jn.CONTAINER_TYPES)
        key_hit = isinstance(key, str) and folded in key.casefold()
        if key_hit or (not is_container and folded in value_search_text(child).casefold()):
            yield child_path
        if is_container:
            stack.append((child_path, _children(child, prefilter and jn.is_lazy(child), folded)))


def _children(value: Any, prefilter: bool, folded: str) -> Iterator[tuple[jn.PathPart, Any]]:
    if jn.is_object(value):
        for key in value:
            yield key, jn.child(value, key)
        return
    if not prefilter or len(value) < PREFILTER_MIN_ELEMENTS:
        yield from enumerate(value if isinstance(value, list) else iter(value))
        return
    digits = any(c.isdigit() for c in folded)
    skipped = 0
    for i in range(len(value)):
        text = value.element_raw(i)
        if text is not None and not _may_contain(bytes(text), folded, digits):
            skipped += 1
            if skipped % SKIP_TICK_EVERY == 0:
                yield _SKIPPED, None  # let the caller check its time budget
            continue
        yield i, value[i]
