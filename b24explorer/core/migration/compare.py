"""A v2 answer and a v3 answer of the same call, matched field by field.

Fields match by name across the two spellings (`ID` ↔ `id`, `createdBy` ↔ `creatorId`), wrappers by the
method's pair (`task` ↔ `item`, `tasks` ↔ `items`), and values by meaning (`"1"` ↔ `1`, `"Y"` ↔ `true`,
a v2 status code ↔ its v3 word).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from .pairs import ObjectNames, pair_for

_GENERIC = ObjectNames("")


class Match(StrEnum):
    SAME = "same"
    DIFFERS = "differs"
    ONLY_V2 = "only-v2"
    ONLY_V3 = "only-v3"


@dataclass(frozen=True)
class FieldRow:
    path_v2: str | None  # e.g. `task.responsibleId`; None when only v3 has the field
    path_v3: str | None  # e.g. `item.responsibleId`; None when only v2 has the field
    value_v2: Any
    value_v3: Any
    status: Match


def compare_answers(method: str, v2_result: Any, v3_result: Any) -> list[FieldRow]:
    """Rows for every leaf field of either answer's `result`, in the v2 answer's order, then v3-only ones."""
    pair = pair_for(method)
    names = pair.names if pair is not None else _GENERIC
    rows: list[FieldRow] = []
    if pair is not None and pair.v3_root and isinstance(v3_result, Mapping) and pair.v3_root in v3_result:
        wrapped = isinstance(v2_result, Mapping) and pair.v2_root in v2_result
        v2_path = pair.v2_root if pair.v2_root and wrapped else ""
        v2_part = v2_result[v2_path] if v2_path else v2_result
        _walk(names, v2_part, v3_result[pair.v3_root], v2_path, pair.v3_root, rows)
    else:
        _walk(names, v2_result, v3_result, "", "", rows)
    return rows


def v2_key_for(v3_name: str, v2_keys: list[str], names: ObjectNames = _GENERIC) -> str | None:
    """The key of a v2 answer that holds the v3 field `v3_name` (the reverse direction of the matching)."""
    return next((key for key in v2_keys if _match(names, key, [v3_name]) is not None), None)


def _match(names: ObjectNames, v2_key: str, v3_keys: list[str]) -> str | None:
    """The v3 key for a v2 key: by the object's names first, then by spelling (case and `_` aside)."""
    wanted = names.v3_name(v2_key)
    found = next((k for k in v3_keys if k == wanted), None)
    return found if found is not None else next((k for k in v3_keys if _flat(k) == _flat(v2_key)), None)


def _flat(name: str) -> str:
    return name.replace("_", "").lower()


def _join(path: str, part: str | int) -> str:
    if isinstance(part, int):
        return f"{path}[{part}]"
    return f"{path}.{part}" if path else part


def _walk(names: ObjectNames, v2: Any, v3: Any, p2: str, p3: str, rows: list[FieldRow]) -> None:
    if isinstance(v2, Mapping) and isinstance(v3, Mapping):
        _walk_objects(names, v2, v3, p2, p3, rows)
    elif isinstance(v2, list) and isinstance(v3, list):
        for i2, i3 in _pair_items(v2, v3):
            if i2 is None and i3 is not None:
                _one_side(v3[i3], _join(p3, i3), rows, Match.ONLY_V3)
            elif i3 is None and i2 is not None:
                _one_side(v2[i2], _join(p2, i2), rows, Match.ONLY_V2)
            elif i2 is not None and i3 is not None:
                _walk(names, v2[i2], v3[i3], _join(p2, i2), _join(p3, i3), rows)
    else:
        status = Match.SAME if _same_field(names, p3.rsplit(".", 1)[-1], v2, v3) else Match.DIFFERS
        rows.append(FieldRow(p2, p3, v2, v3, status))


def _item_id(item: Any) -> Any:
    if not isinstance(item, Mapping):
        return None
    value = item.get("id", item.get("ID"))
    return None if value is None else str(value)


def _pair_items(v2: list[Any], v3: list[Any]) -> list[tuple[int | None, int | None]]:
    """Index pairs of list items: by id when every item has one (a v3 page may hold other rows), else by place."""
    ids2, ids3 = [_item_id(i) for i in v2], [_item_id(i) for i in v3]
    if None in ids2 or None in ids3:
        return [(i if i < len(v2) else None, i if i < len(v3) else None) for i in range(max(len(v2), len(v3)))]
    where3 = {item_id: index for index, item_id in enumerate(ids3)}
    pairs: list[tuple[int | None, int | None]] = [(i2, where3.pop(item_id, None)) for i2, item_id in enumerate(ids2)]
    return pairs + [(None, i3) for i3 in sorted(where3.values())]


def _walk_objects(names: ObjectNames, v2: Mapping[str, Any], v3: Mapping[str, Any], p2: str, p3: str,
                  rows: list[FieldRow]) -> None:
    left = [str(k) for k in v3]
    for key, value in v2.items():
        key = str(key)
        match = _match(names, key, left)
        if match is None:
            _one_side(value, _join(p2, key), rows, Match.ONLY_V2)
            continue
        left.remove(match)
        _walk(names, value, v3[match], _join(p2, key), _join(p3, match), rows)
    for key in left:
        _one_side(v3[key], _join(p3, key), rows, Match.ONLY_V3)


def _one_side(value: Any, path: str, rows: list[FieldRow], status: Match) -> None:
    if isinstance(value, Mapping) and value:
        for key, inner in value.items():
            _one_side(inner, _join(path, str(key)), rows, status)
        return
    if isinstance(value, list) and value and any(isinstance(v, Mapping | list) for v in value):
        for index, inner in enumerate(value):
            _one_side(inner, _join(path, index), rows, status)
        return
    if status is Match.ONLY_V2:
        rows.append(FieldRow(path, None, value, None, status))
    else:
        rows.append(FieldRow(None, path, None, value, status))


def _same_field(names: ObjectNames, v3_name: str, v2: Any, v3: Any) -> bool:
    """`same_value`, plus what one object's docs say its v2 and v3 spellings of a field mean."""
    if v3 is None and v2 is not None and str(v2) in names.nulls.get(v3_name, ()):
        return True
    if v3_name in names.user_flags and isinstance(v3, list) and isinstance(v2, str | None):
        return ((v2 or "").strip().upper() == "Y") == bool(v3)
    return same_value(v2, v3, names.values.get(v3_name, {}))


def same_value(v2: Any, v3: Any, words: Mapping[str, str] | None = None) -> bool:
    """Whether a v2 value and a v3 value mean the same: `"1"` ↔ `1`, `"Y"` ↔ `true`, `"2"` ↔ `"pending"`."""
    if v2 == v3 and type(v2) is type(v3):
        return True
    if v2 is None or v3 is None:  # nothing either way; v2 sends null for an empty list
        return v2 in (None, "", []) and v3 in (None, "", [])
    if isinstance(v3, bool):
        return str(v2).strip().upper() in (("Y", "1", "TRUE") if v3 else ("N", "0", "FALSE", ""))
    if isinstance(v3, int | float) and not isinstance(v2, bool):
        try:
            return float(str(v2).strip()) == float(v3)
        except ValueError:
            return False
    if isinstance(v3, str) and words and words.get(str(v2)) == v3:
        return True
    if isinstance(v2, list) and isinstance(v3, list):
        return len(v2) == len(v3) and all(same_value(a, b, words) for a, b in zip(v2, v3, strict=True))
    return False
