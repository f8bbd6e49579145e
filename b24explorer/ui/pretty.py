"""Resumable pretty-printing, a page of lines at a time (Qt-free).

`PrettyLines` writes exactly what `json.dumps(value, indent=2, ensure_ascii=False)` writes, but line by
line from an explicit stack, so the raw view can show the first page of a 32 MB answer at once, and
jump back to any page from a saved state instead of holding the whole pretty text in memory.
`TextLines` pages plain text (a body that is not JSON) the same way.
"""

from __future__ import annotations

import json
from typing import Any

from . import json_node as jn

_encode_str = json.encoder.encode_basestring  # the C encoder json.dumps uses for ensure_ascii=False
INDENT = "  "


def scalar_json(value: Any) -> str:
    if isinstance(value, str):
        return _encode_str(value)
    if value is None:
        return "null"
    if value is True:
        return "true"
    if value is False:
        return "false"
    if isinstance(value, int):
        return int.__repr__(value)
    if isinstance(value, float):
        return json.dumps(value)
    return json.dumps(value, ensure_ascii=False)


class PrettyLines:
    """Lines of the indented JSON of a value (lazy nodes or plain Python), on demand."""

    def __init__(self, value: Any) -> None:
        # a frame: [container, keys or elements, next position, depth, closer line, is an object]
        self._stack: list[list[Any]] = []
        self._pending: tuple[Any, int, str, str] | None = (value, 0, "", "")
        self.lines_done = 0

    @property
    def done(self) -> bool:
        return self._pending is None and not self._stack

    def state(self) -> tuple[Any, ...]:
        """A snapshot to resume from later (cheap: frames share their containers)."""
        return ([f.copy() for f in self._stack], self._pending, self.lines_done)

    def restore(self, state: tuple[Any, ...]) -> None:
        stack, pending, lines_done = state
        self._stack = [f.copy() for f in stack]
        self._pending = pending
        self.lines_done = lines_done

    def take(self, limit: int) -> list[str]:
        out: list[str] = []
        stack = self._stack
        while len(out) < limit:
            pending = self._pending
            if pending is not None:
                self._pending = None
                value, depth, prefix, suffix = pending
                pad = INDENT * depth
                if jn.is_object(value) and len(value):
                    out.append(f"{pad}{prefix}{{")
                    stack.append([value, list(value), 0, depth + 1, f"{pad}}}{suffix}", True])
                elif jn.is_array(value) and len(value):
                    out.append(f"{pad}{prefix}[")
                    stack.append([value, jn.Elements(value), 0, depth + 1, f"{pad}]{suffix}", False])
                elif jn.is_object(value):
                    out.append(f"{pad}{prefix}{{}}{suffix}")
                elif jn.is_array(value):
                    out.append(f"{pad}{prefix}[]{suffix}")
                else:
                    out.append(f"{pad}{prefix}{scalar_json(value)}{suffix}")
                continue
            if not stack:
                break
            frame = stack[-1]
            container, seq, pos, depth, closer, is_obj = frame
            if pos >= len(seq):
                stack.pop()
                out.append(closer)
                continue
            frame[2] = pos + 1
            comma = "," if pos + 1 < len(seq) else ""
            if is_obj:
                key = seq[pos]
                child = jn.child(container, key)
                if not isinstance(child, jn.CONTAINER_TYPES):  # fast path for the common leaf
                    out.append(f"{INDENT * depth}{_encode_str(key)}: {scalar_json(child)}{comma}")
                    continue
                self._pending = (child, depth, f"{_encode_str(key)}: ", comma)
            else:
                child = seq[pos]
                if not isinstance(child, jn.CONTAINER_TYPES):
                    out.append(f"{INDENT * depth}{scalar_json(child)}{comma}")
                    continue
                self._pending = (child, depth, "", comma)
        self.lines_done += len(out)
        return out


class TextLines:
    """Lines of a plain text, with the same paging interface as `PrettyLines`."""

    def __init__(self, text: str) -> None:
        self._text = text
        self._pos = 0
        self.lines_done = 0

    @property
    def done(self) -> bool:
        return self._pos >= len(self._text)

    def state(self) -> tuple[int, int]:
        return (self._pos, self.lines_done)

    def restore(self, state: tuple[int, int]) -> None:
        self._pos, self.lines_done = state

    def take(self, limit: int) -> list[str]:
        out: list[str] = []
        text, pos = self._text, self._pos
        while len(out) < limit and pos < len(text):
            end = text.find("\n", pos)
            if end < 0:
                end = len(text)
            out.append(text[pos:end])
            pos = end + 1
        self._pos = pos
        self.lines_done += len(out)
        return out
