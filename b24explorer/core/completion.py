"""What to offer while params are typed as JSON: where the cursor is in the (usually unfinished) text, and the
words that fit there — the method's documented params as top-level keys, nested fields under ``fields`` and
the like, and field names inside ``select``, ``filter`` and ``order``.

:func:`cursor_context` reads the text up to the cursor leniently (nothing after it matters, nothing needs to
parse); :func:`suggestions` picks the words. Field names come from the reference catalog (the ``fields`` of the
family's ``add``/``update`` pages) and from the portal's ``*.fields`` answer when the caller has it
(:func:`fields_method`, :func:`field_names_of_answer`).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from .reference import MethodRef, ReferenceCatalog

FILTER_OPERATORS = "!<>=%@*"
_FIELD_PARAMS = frozenset({"select", "filter", "order"})
_WORD = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_.!<>=%@*")


@dataclass(frozen=True, slots=True)
class CursorContext:
    """Where the cursor is: in the container at ``path`` (object keys and array positions from the root),
    typing a key or a value, of which ``prefix`` is typed so far (without its opening quote)."""

    path: tuple[str | int, ...]
    role: str  # "key" | "value"
    prefix: str
    start: int  # where the token starts in the text: its opening quote, or its first character
    quoted: bool
    in_array: bool

    @property
    def operator(self) -> str:
        """A v2 filter key's operator prefix (``>=`` of ``>=OPPORTUNITY``)."""
        return self.prefix[: len(self.prefix) - len(self.prefix.lstrip(FILTER_OPERATORS))]

    @property
    def word(self) -> str:
        """The prefix without a filter operator: what the completions are matched against."""
        return self.prefix[len(self.operator):]


@dataclass
class _Frame:
    array: bool
    key: str | None = None  # objects: the key being filled
    index: int = 0  # arrays: the position being filled
    expect: str = "key"  # objects: key | colon | value | comma; arrays: value | comma

    @property
    def slot(self) -> str | int:
        return self.index if self.array else (self.key or "")


def cursor_context(text: str, pos: int) -> CursorContext | None:
    """The context at ``pos`` (a string index), or None where nothing can be completed (a number, after a
    complete value, outside any object)."""
    stack: list[_Frame] = []
    i = 0
    string_start = -1
    string_role = ""
    escaped = False
    chars: list[str] = []
    before = text[:pos]
    while i < len(before):
        ch = before[i]
        if string_start >= 0:
            if escaped:
                escaped = False
                chars.append(ch)
            elif ch == "\\":
                escaped = True
            elif ch == '"':
                _string_done(stack, string_role, "".join(chars))
                string_start = -1
            else:
                chars.append(ch)
            i += 1
            continue
        if ch == '"':
            string_start, chars = i, []
            string_role = "key" if stack and not stack[-1].array and stack[-1].expect == "key" else "value"
        elif ch in "{[":
            if stack:
                stack[-1].expect = "comma"  # the container opened here is the parent's value
            stack.append(_Frame(array=ch == "[", expect="value" if ch == "[" else "key"))
        elif ch in "}]":
            if stack:
                stack.pop()
        elif ch == ":" and stack and not stack[-1].array:
            stack[-1].expect = "value"
        elif ch == "," and stack:
            top = stack[-1]
            if top.array:
                top.index += 1
                top.expect = "value"
            else:
                top.key, top.expect = None, "key"
        i += 1
    if not stack:
        return None
    top = stack[-1]
    path = tuple(frame.slot for frame in stack[:-1])
    if string_start >= 0:
        return CursorContext(path, string_role, "".join(chars), string_start, True, top.array)
    word_start = pos
    while word_start > 0 and text[word_start - 1] in _WORD:
        word_start -= 1
    word = text[word_start:pos]
    if top.array and top.expect == "value":
        return CursorContext(path, "value", word, word_start, False, True) if not word[:1].isdigit() else None
    if not top.array and top.expect == "key":
        return CursorContext(path, "key", word, word_start, False, False)
    return None


def _string_done(stack: list[_Frame], role: str, value: str) -> None:
    if not stack:
        return
    top = stack[-1]
    if role == "key" and not top.array:
        top.key, top.expect = value, "colon"
    else:
        top.expect = "comma"


def _bare(name: str) -> str:
    return name.removesuffix("[]")


def suggestions(context: CursorContext, method: MethodRef | None, field_names: Sequence[str] = ()) -> list[str]:
    """The words that fit ``context`` for ``method`` (its reference entry, or None when the docs lack it);
    ``field_names`` are the entity's fields (the catalog's and the portal's)."""
    path = context.path
    if context.role == "key" and not context.in_array:
        if not path:
            return _unique(_bare(p.name) for p in method.params) if method is not None else []
        one_level = len(path) == 1 or (len(path) == 2 and isinstance(path[1], int))  # fields: {…}, rows: [{…}]
        if one_level and isinstance(path[0], str):
            nested = [_bare(p.name) for p in method.nested(path[0])] if method is not None else []
            if nested:
                return _unique(nested)
            return list(field_names) if path[0].lower() in _FIELD_PARAMS else []
        return []
    if context.role == "value" and context.in_array and path:
        head = path[0]
        if isinstance(head, str) and head.lower() == "select" and len(path) == 1:
            return list(field_names)
        if isinstance(head, str) and head.lower() == "filter" and len(path) == 2:  # v3: [field, op, value]
            return list(field_names)
    return []


def documented_fields(catalog: ReferenceCatalog, method: str, api: int) -> list[str]:
    """The entity's field names the docs give: the method's own ``fields``/``filter``/``select`` tables, then
    the ``fields`` of its family's ``add`` and ``update`` pages (``crm.deal.list`` → ``crm.deal.add``)."""
    family = method.rsplit(".", 1)[0]
    names: list[str] = []
    own = catalog.get(method, api)
    if own is not None:
        for param in ("fields", "filter", "select"):
            names += [_bare(p.name) for p in own.nested(param)]
    for sibling in (f"{family}.add", f"{family}.update"):
        entry = catalog.get(sibling, api)
        if entry is not None:
            names += [_bare(p.name) for p in entry.nested("fields")]
    return _unique(names)


def fields_method(method: str) -> str | None:
    """The method that describes the entity's fields (``crm.deal.list`` → ``crm.deal.fields``), or None."""
    family, _, last = method.strip().rpartition(".")
    if not family or last.lower() == "fields":
        return None
    return f"{family}.fields"


def field_names_of_answer(result: Any) -> list[str]:
    """The field names of a ``*.fields`` answer: ``{NAME: {type…}}`` or ``{"fields": {name: {…}}}``."""
    if isinstance(result, Mapping) and isinstance(result.get("fields"), Mapping):
        result = result["fields"]
    if not isinstance(result, Mapping):
        return []
    return [str(key) for key in result]


def _unique(names: Iterable[str]) -> list[str]:
    """Each name once; placeholders of the docs (``UF_CRM_...``) are no names to type."""
    return list(dict.fromkeys(n for n in names if n and "..." not in n and " " not in n))
