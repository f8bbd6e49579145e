"""Filtering, ordering and paging over a Table, for v2 prefix filters and v3 condition triples."""

from __future__ import annotations

import bisect
import datetime as dt
import itertools
import json
import re
from collections import OrderedDict
from collections.abc import Callable
from typing import Any

from .schema import Field
from .store import PORTAL_TZ, Table

Row = dict[str, Any]
Pred = Callable[[Row], bool]

# longest prefixes first, so `>=` is not read as `>`
_V2_PREFIXES = ["!=%", "!%=", "=%", "%=", "!%", ">=", "<=", "!=", "!@", ">", "<", "@", "%", "=", "!"]


class QueryError(ValueError):
    def __init__(self, message: str, field: str | None = None) -> None:
        super().__init__(message)
        self.field = field


def _coerce(field: Field, value: Any) -> Any:
    if value is None:
        return None
    if field.type in ("datetime", "date") and isinstance(value, str) and value:
        return _moment(value)
    if field.numeric:
        if isinstance(value, bool):
            return int(value)
        try:
            return float(value)
        except (TypeError, ValueError):
            return None
    if field.type == "char" and isinstance(value, bool):
        return "Y" if value else "N"
    if isinstance(value, bool):
        return value
    return str(value)


def _moment(text: str) -> Any:
    """A date or date-time as unix time, so values written with different offsets compare by moment."""
    try:
        moment = dt.datetime.fromisoformat(text.strip().replace(" ", "T", 1) if len(text.strip()) > 10 else text.strip())
    except ValueError:
        return text
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=PORTAL_TZ)
    return moment.timestamp()


def _row_value(field: Field, row: Row) -> Any:
    return _coerce(field, row.get(field.name))


def _like(pattern: str) -> re.Pattern[str]:
    parts = [re.escape(p) for p in pattern.split("%")]
    return re.compile("^" + ".*".join(parts) + "$", re.IGNORECASE | re.DOTALL)


def _compare(op: str, field: Field, raw: Any) -> Pred:
    if op in ("=", "!", "!=", "@", "!@", "in"):
        values = raw if isinstance(raw, list) else [raw]
        wanted: set[str | None] = set()
        for v in values:
            if v is None or v == "":
                wanted.add(None)
                wanted.add("")
            elif isinstance(v, (dict, list)):
                continue
            else:
                wanted.add(_coerce(field, v))
        negate = op in ("!", "!=", "!@")

        def eq(row: Row) -> bool:
            actual = _row_value(field, row)
            if isinstance(actual, list):
                hit = any(_coerce(field, a) in wanted for a in actual)
            else:
                hit = actual in wanted
            return hit != negate

        return eq
    if op in (">", ">=", "<", "<=") and isinstance(raw, (list, dict)):
        # As a portal's SQL builder reads an array there: any of its values (an array inside counts as PHP's
        # intval of it, 1 or 0); an empty array sets no condition.
        values = list(raw.values()) if isinstance(raw, dict) else raw
        if not values:
            return lambda row: True
        return _any([_compare(op, field, int(bool(v)) if isinstance(v, (list, dict)) else v) for v in values])
    if op in (">", ">=", "<", "<="):
        target = _coerce(field, raw)
        if target is None:
            return lambda row: False
        cmp = {">": lambda a, b: a > b, ">=": lambda a, b: a >= b,
               "<": lambda a, b: a < b, "<=": lambda a, b: a <= b}[op]

        def ordered(row: Row) -> bool:
            actual = _row_value(field, row)
            if actual is None or type(actual) is not type(target):
                return False
            return bool(cmp(actual, target))

        return ordered
    if op in ("%", "!%"):
        needle = str(raw).lower()
        negate = op == "!%"
        return lambda row: (needle in str(row.get(field.name) or "").lower()) != negate
    if op in ("=%", "%=", "!=%", "!%="):
        pattern = _like(str(raw))
        negate = op.startswith("!")
        return lambda row: bool(pattern.match(str(row.get(field.name) or ""))) != negate
    raise QueryError(f"Unknown filter operator `{op}`")


def _all(preds: list[Pred]) -> Pred:
    if len(preds) == 1:
        return preds[0]
    return lambda row: all(p(row) for p in preds)


def _any(preds: list[Pred]) -> Pred:
    return lambda row: any(p(row) for p in preds)


def split_v2_key(key: str) -> tuple[str, str]:
    for prefix in _V2_PREFIXES:
        if key.startswith(prefix):
            return prefix, key[len(prefix):]
    return "=", key


def compile_v2_filter(table: Table, flt: Any, lookup: Callable[[str], Field | None], *,
                      strict: bool = False) -> Pred | None:
    """A v2 filter object (`{">ID": 5, "@STAGE_ID": [...], "0": {"LOGIC": "OR", ...}}`) as a predicate.

    Unknown fields are ignored, as the classic methods do, or refused with QueryError when `strict`
    (`crm.item.list`); `None` means "matches everything".
    """
    if isinstance(flt, list):
        flt = {str(i): v for i, v in enumerate(flt)}
    if not isinstance(flt, dict):
        return None
    preds: list[Pred] = []
    logic = "AND"
    for key, value in flt.items():
        key = str(key)
        if key.upper() == "LOGIC":
            logic = str(value).upper()
            continue
        if key.isdigit() and isinstance(value, dict):
            sub = compile_v2_filter(table, value, lookup, strict=strict)
            if sub is not None:
                preds.append(sub)
            continue
        op, name = split_v2_key(key)
        field = lookup(name)
        if field is None:
            if strict:
                raise QueryError(f"Invalid filter: field '{name}' is not allowed in filter", field=name)
            continue
        preds.append(_compare(op, field, value))
    if not preds:
        return None
    return _any(preds) if logic == "OR" else _all(preds)


_V3_OPS = {"=": "=", "!=": "!=", ">": ">", ">=": ">=", "<": "<", "<=": "<=", "in": "in", "between": "between"}


def compile_v3_filter(flt: Any, lookup: Callable[[str], Field | None]) -> Pred | None:
    """v3 filter: a list of `[field, op, value]` / `[field, value]` triples and `{logic, conditions}` groups."""
    if flt is None or flt == [] or flt == {}:
        return None
    if isinstance(flt, dict):
        if "conditions" in flt:
            return _v3_group(flt, lookup)
        raise QueryError("Filter must be a list of conditions")
    if not isinstance(flt, list):
        raise QueryError("Filter must be a list of conditions")
    if flt and isinstance(flt[0], str):
        flt = [flt]  # a single bare triple
    preds = [_v3_condition(c, lookup) for c in flt]
    return _all(preds) if preds else None


def _v3_group(group: dict[str, Any], lookup: Callable[[str], Field | None]) -> Pred:
    logic = str(group.get("logic", "and")).lower()
    conditions = group.get("conditions")
    if logic not in ("and", "or") or not isinstance(conditions, list):
        raise QueryError("A filter group needs `logic` (and/or) and a `conditions` list")
    preds = [_v3_condition(c, lookup) for c in conditions]
    if not preds:
        return lambda row: True
    return _any(preds) if logic == "or" else _all(preds)


def _v3_condition(cond: Any, lookup: Callable[[str], Field | None]) -> Pred:
    if isinstance(cond, dict):
        return _v3_group(cond, lookup)
    if not isinstance(cond, list) or len(cond) not in (2, 3) or not isinstance(cond[0], str):
        raise QueryError(f"Unable to recognize the filter condition `{json.dumps(cond)}`")
    name = cond[0]
    if len(cond) == 2:
        op, value = ("in" if isinstance(cond[1], list) else "="), cond[1]
    else:
        op, value = str(cond[1]).lower(), cond[2]
    field = lookup(name)
    if field is None:
        raise QueryError(f"Unknown field `{name}` in filter", field=name)
    if op not in _V3_OPS:
        raise QueryError(f"Unknown filter operator `{op}`", field=name)
    if op == "between":
        if not isinstance(value, list) or len(value) != 2:
            raise QueryError("`between` needs a [from, to] pair", field=name)
        return _all([_compare(">=", field, value[0]), _compare("<=", field, value[1])])
    if op == "in" and not isinstance(value, list):
        raise QueryError("`in` needs a list", field=name)
    return _compare(op, field, value)


def parse_order(order: Any, lookup: Callable[[str], Field | None], *,
                strict: bool = False) -> list[tuple[Field, bool]]:
    """[(field, descending)] from `{"FIELD": "ASC"|"DESC"}`; unknown fields are skipped, or refused with
    QueryError when `strict`."""
    out: list[tuple[Field, bool]] = []
    if isinstance(order, dict):
        for name, direction in order.items():
            field = lookup(str(name))
            word = str(direction).strip().upper()
            if strict and field is None:
                raise QueryError(f"Invalid order: field '{name}' is not allowed in order", field=str(name))
            if strict and word not in ("ASC", "DESC"):
                raise QueryError(f"Invalid order: allowed sort directions are ASC, DESC. But got '{direction}' "
                                 f"for field '{name}'", field=str(name))
            if field is not None:
                out.append((field, word == "DESC"))
    return out


class Lister:
    """Runs list queries with a small cache of matched id lists (keyed by filter+order, per table version)."""

    def __init__(self) -> None:
        self._cache: OrderedDict[tuple[Any, ...], list[int]] = OrderedDict()

    def matching_ids(self, table: Table, pred: Pred | None, order: list[tuple[Field, bool]],
                     cache_key: Any = None, flt: Any = None, limit: int | None = None) -> list[int]:
        """`flt`: the v2 filter behind `pred`, whose ID range conditions narrow the rows `pred` reads. `limit`: only
        the first so many are wanted (a page that is not counted): ordered by ID, the scan stops there."""
        if pred is None and all(f.name == "ID" for f, _ in order):
            desc = bool(order) and order[0][1]
            return table.ids[::-1] if desc else table.ids
        key = (table.name, table.version, cache_key) if cache_key is not None else None
        if key is not None and key in self._cache:
            self._cache.move_to_end(key)
            return self._cache[key]
        rows = table.rows
        source = table.ids
        if pred is not None and isinstance(flt, dict):  # the ID range first, as an index on the key would
            lo, hi = _id_bounds(source, flt, only_ids=False) or (0, len(source))
            source = source[lo:hi]
        if pred is not None and limit is not None and order and all(f.name == "ID" for f, _ in order):
            return list(itertools.islice((i for i in (reversed(source) if order[0][1] else source)
                                          if pred(rows[i])), limit))
        ids = [i for i in source if pred(rows[i])] if pred is not None else list(source)
        for field, desc in reversed(order):
            if field.name == "ID":
                ids.sort(reverse=desc)
                continue

            def sort_key(i: int, field: Field = field) -> tuple[int, Any]:
                v = _row_value(field, rows[i])
                return (0, "") if v is None else (1, v)

            ids.sort(key=sort_key, reverse=desc)
        if key is not None:
            self._cache[key] = ids
            while len(self._cache) > 64:
                self._cache.popitem(last=False)
        return ids

    @staticmethod
    def id_window(table: Table, flt: Any, order: list[tuple[Field, bool]]) -> list[int] | None:
        """Fast path for filters on ID alone (the `>ID` cursor of fast list-alls): a bisect, no scan."""
        if not isinstance(flt, dict) or not flt:
            return None
        if any(f.name != "ID" for f, _ in order):
            return None
        bounds = _id_bounds(table.ids, flt, only_ids=True)
        if bounds is None:
            return None
        lo, hi = bounds
        ids = table.ids
        window = ids[lo:hi] if lo < hi else []
        if order and order[0][1]:
            window.reverse()
        return window


def _id_bounds(ids: list[int], flt: dict[Any, Any], *, only_ids: bool) -> tuple[int, int] | None:
    """The slice of the sorted `ids` that the filter's ID range conditions (>, >=, <, <=) leave. `only_ids`:
    None when the filter has any other condition (else those are left to the caller), and whenever its top level
    is joined with LOGIC OR (a bound then narrows nothing)."""
    if any(str(k).upper() == "LOGIC" and str(v).upper() == "OR" for k, v in flt.items()):
        return None
    lo, hi = 0, len(ids)
    for key, value in flt.items():
        op, name = split_v2_key(str(key))
        if name.upper() != "ID" or op not in (">", ">=", "<", "<=") or isinstance(value, (list, dict)):
            if only_ids:
                return None
            continue
        try:
            bound = int(float(value))
        except (TypeError, ValueError):
            if only_ids:
                return None
            continue
        if op == ">":
            lo = max(lo, bisect.bisect_right(ids, bound))
        elif op == ">=":
            lo = max(lo, bisect.bisect_left(ids, bound))
        elif op == "<":
            hi = min(hi, bisect.bisect_left(ids, bound))
        else:
            hi = min(hi, bisect.bisect_right(ids, bound))
    return lo, hi
