"""REST v2 params → REST v3 params for a method that exists in both (see `pairs.PAIRS`).

Whatever has no v3 form is reported as a `Problem` with its reason and left out of the v3 params; nothing is
dropped silently. v2 filter prefixes map to v3 operators as the REST 3.0 docs list them.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from ..filterops import NO_V3_TWIN, V3_OPERATORS, split_v2_key, v3_operator
from .pairs import Kind, MethodPair, pair_for
from .schema import EntitySchema, FieldSpec, SchemaSet

_V3_KEYS = {Kind.GET: ("id", "select"), Kind.LIST: ("select", "filter", "order", "pagination"),
            Kind.ADD: ("fields",), Kind.UPDATE: ("id", "fields"), Kind.DELETE: ("id",)}


class NoV3Twin(ValueError):
    """The method has no translation rule (it is not a v2/v3 pair)."""


@dataclass(frozen=True)
class Problem:
    """A part of the v2 params with no v3 form: where it was, what it held, and why it cannot be translated."""

    path: str  # in the v2 params, e.g. `filter.%TITLE`, `select[2]`, `order.STATUS`
    value: Any
    reason: str


@dataclass(frozen=True)
class Translation:
    method: str
    v2_params: Any
    params: dict[str, Any]  # the v3 params
    problems: tuple[Problem, ...] = ()
    notes: tuple[str, ...] = ()  # what changed in meaning without losing anything (e.g. an added `id`)
    schema_source: str = ""  # where the v3 field names came from: portal | builtin

    @property
    def clean(self) -> bool:
        return not self.problems


def can_translate(method: str) -> bool:
    return pair_for(method) is not None


def translate(method: str, params: Any, schemas: SchemaSet | None = None) -> Translation:
    """The v3 form of a v2 call of `method`. Raises `NoV3Twin` for a method that is not a v2/v3 pair."""
    pair = pair_for(method)
    if pair is None:
        raise NoV3Twin(f"{method} has no REST v3 translation rule")
    schema = (schemas or SchemaSet()).get(pair.dto)
    job = _Job(pair, schema)
    job.run(params)
    return Translation(pair.method, params, job.out, tuple(job.problems), tuple(job.notes), schema.source)


class _Job:
    def __init__(self, pair: MethodPair, schema: EntitySchema) -> None:
        self.pair = pair
        self.schema = schema
        self.out: dict[str, Any] = {}
        self.problems: list[Problem] = []
        self.notes: list[str] = []

    def refuse(self, path: str, value: Any, reason: str) -> None:
        self.problems.append(Problem(path, value, reason))

    def run(self, params: Any) -> None:
        if params is None:
            params = {}
        if not isinstance(params, Mapping):
            self.refuse("", params, "v2 params must be a JSON object to be translated")
            return
        kind = self.pair.kind
        by_lower = {str(k).lower(): k for k in params}
        seen: set[str] = set()

        def take(name: str) -> tuple[bool, Any]:  # v2 reads top-level keys case-insensitively
            key = by_lower.get(name.lower())
            if key is None:
                return False, None
            seen.add(key)
            return True, params[key]

        if self.pair.id_keys:
            self._id(take)
        if self.pair.id_filter:
            self._id_filter(take)
        if kind in (Kind.GET, Kind.LIST):
            found, select = take("select")
            self._select(select, found)
        if kind is Kind.LIST:
            found, flt = take("filter")
            if found:
                self._filter(flt)
            found, order = take("order")
            if found:
                self._order(order)
            found, start = take("start")
            if found:
                self._start(start)
        if kind in (Kind.ADD, Kind.UPDATE):
            found, fields = take("fields")
            if found:
                self._fields(fields)
            else:
                self.refuse("fields", None, "no `fields` object in the v2 params")
        for key in params:
            if key not in seen:
                self.refuse(str(key), params[key], f"v3 {self.pair.method} takes no parameter `{key}` "
                            f"(it takes {', '.join(f'`{k}`' for k in _V3_KEYS[kind])})")

    # -- parts

    def _field(self, path: str, v2_name: str, value: Any) -> FieldSpec | None:
        """The v3 field a v2 name stands for; reported when the v3 object has no such field."""
        name = self.pair.names.v3_name(v2_name)
        spec = self.schema.field(name)
        if spec is None:
            self.refuse(path, value, f"{self.schema.dto} in v3 has no field `{name}`")
        return spec

    def _known_fields(self, raw: Mapping[str, Any], where: str) -> Iterator[tuple[str, FieldSpec, Any]]:
        """(path, v3 field, value) for each key of a v2 object that names a v3 field; the others are reported."""
        for key, value in raw.items():
            path = f"{where}.{key}"
            spec = self._field(path, str(key), value)
            if spec is not None:
                yield path, spec, value

    def _id(self, take: _Take) -> None:
        given = [(key, value) for key in self.pair.id_keys for found, value in [take(key)] if found]
        if given:  # `taskId` first, as the v2 method reads it
            key, value = given[0]
            number = _as_int(value)
            if number is None:
                self.refuse(key, value, "the id is not a whole number")
            else:
                self.out["id"] = number
            return
        self.refuse(self.pair.id_keys[0], None, f"no `{self.pair.id_keys[0]}` in the v2 params; v3 requires `id`")

    def _id_filter(self, take: _Take) -> None:
        target = self.pair.id_filter
        assert target is not None
        found, value = take(target)
        number = _as_int(value) if found else None
        if number is None:
            self.refuse(target, value, f"v3 {self.pair.method} requires a whole-number `{target}`")
            return
        self.out.setdefault("filter", []).append([target, number])

    def _select(self, raw: Any, given: bool) -> None:
        if not given or raw in (None, "", [], {}):
            if self.pair.kind is Kind.LIST:
                self.notes.append("without `select` v3 lists return only `id`; v2 returned its default fields")
            return
        items = list(raw.values()) if isinstance(raw, Mapping) else raw if isinstance(raw, list) else [raw]
        names: list[str] = []
        for index, item in enumerate(items):
            path = f"select[{index}]"
            if not isinstance(item, str):
                self.refuse(path, item, "a select entry must be a field name")
                continue
            if item == "*":
                names += [n for n, spec in self.schema.fields.items() if spec.type not in ("object",)]
                self.notes.append(f"`*` became every field of {self.schema.dto} (v3 has no `*`)")
                continue
            if item.upper().startswith("UF_"):
                self.refuse(path, item, f"user fields (`UF_*`) are not part of the v3 {self.schema.dto}")
                continue
            name = self.pair.names.v3_name(item)
            if self.schema.field(name) is None and name not in self.schema.relations:
                self.refuse(path, item, f"{self.schema.dto} in v3 has no field `{name}`")
                continue
            names.append(name)
        if names and "id" in self.schema.fields and "id" not in names:
            names.insert(0, "id")
            self.notes.append("`id` was added to `select`: v2 always returns the id, v3 only when selected")
        if names:
            self.out["select"] = list(dict.fromkeys(names))

    def _filter(self, raw: Any) -> None:
        if raw in (None, "", [], {}):
            return
        if isinstance(raw, list):
            raw = {str(i): v for i, v in enumerate(raw)}
        if not isinstance(raw, Mapping):
            self.refuse("filter", raw, "a v2 filter must be an object")
            return
        group = self._group(raw, "filter")
        if group is None:
            return
        logic, conditions = group
        if logic == "or":
            self.out.setdefault("filter", []).append({"logic": "or", "conditions": conditions})
        else:
            self.out.setdefault("filter", []).extend(conditions)

    def _group(self, raw: Mapping[str, Any], path: str) -> tuple[str, list[Any]] | None:
        logic = "and"
        conditions: list[Any] = []
        for key, value in raw.items():
            key = str(key)
            here = f"{path}.{key}"
            if key.upper() == "LOGIC":
                logic = str(value).lower()
                if logic not in ("and", "or"):
                    self.refuse(here, value, "LOGIC must be AND or OR")
                    return None
                continue
            if key.isdigit() and isinstance(value, Mapping):
                sub = self._group(value, here)
                if sub is not None and sub[1]:
                    conditions.append({"logic": sub[0], "conditions": sub[1]})
                continue
            condition = self._condition(key, value, here)
            if condition is not None:
                conditions.append(condition)
        return logic, conditions

    def _condition(self, key: str, value: Any, path: str) -> list[Any] | None:
        prefix, v2_name = split_v2_key(key)
        if prefix in NO_V3_TWIN:
            self.refuse(path, value, f"the v2 filter operator {NO_V3_TWIN[prefix]} has no REST v3 twin "
                        f"(v3 has {', '.join(V3_OPERATORS)})")
            return None
        spec = self._field(path, v2_name, value)
        if spec is None:
            return None
        name = spec.name
        if not self.schema.can_filter(name):
            self.refuse(path, value, f"v3 cannot filter {self.schema.dto} on `{name}`: it filters on "
                        f"{self.schema.described_filterable()} only")
            return None
        many = isinstance(value, list | tuple)
        op = v3_operator(prefix, many)
        if op is None:
            self.refuse(path, value, _why_no_operator(prefix))
            return None
        if op == "between" and len(value) != 2:
            self.refuse(path, value, _BETWEEN_PAIR)
            return None
        if op in ("in", "between"):
            values = [self._value(spec.name, spec.type, v, path) for v in (value if many else [value])]
            if any(v is _BAD for v in values):
                return None
            return [name, op, values]
        converted = self._value(spec.name, spec.type, value, path)
        return None if converted is _BAD else [name, op, converted]

    def _value(self, name: str, kind: str, value: Any, path: str) -> Any:
        """A v2 value (strings, "Y"/"N", codes) in the JSON type the v3 schema gives the field."""
        if value is None:
            return None
        if kind == "integer":
            number = _as_int(value)
            if number is None:
                self.refuse(path, value, f"`{name}` is a whole number in v3; `{value}` is not")
                return _BAD
            return number
        if kind == "number":
            try:
                return float(value)
            except (TypeError, ValueError):
                self.refuse(path, value, f"`{name}` is a number in v3; `{value}` is not")
                return _BAD
        if kind == "boolean":
            if isinstance(value, bool):
                return value
            text = str(value).strip().upper()
            if text in ("Y", "1", "TRUE"):
                return True
            if text in ("N", "0", "FALSE", ""):
                return False
            self.refuse(path, value, f"`{name}` is true/false in v3; `{value}` is not")
            return _BAD
        if kind == "string":
            text = value if isinstance(value, str) else str(value)
            return self.pair.names.values.get(name, {}).get(text, text)
        return value

    def _order(self, raw: Any) -> None:
        if raw in (None, "", [], {}):
            return
        if not isinstance(raw, Mapping):
            self.refuse("order", raw, "a v2 order must be an object of field: direction")
            return
        order: dict[str, str] = {}
        for path, spec, direction in self._known_fields(raw, "order"):
            if not self.schema.can_sort(spec.name):
                self.refuse(path, direction, f"v3 cannot sort {self.schema.dto} on `{spec.name}`")
            elif str(direction).strip().upper() not in ("ASC", "DESC"):
                self.refuse(path, direction, "the direction must be ASC or DESC")
            else:
                order[spec.name] = str(direction).strip().upper()
        if order:
            self.out["order"] = order

    def _start(self, raw: Any) -> None:
        start = _as_int(raw)
        if start is None:
            self.refuse("start", raw, "`start` must be a whole number")
        elif start == -1:
            self.notes.append("`start: -1` (skip the count) is not needed: v3 lists never count")
        elif start < 0:
            self.refuse("start", raw, "`start` cannot be negative")
        elif start > 0:
            self.out["pagination"] = {"limit": self.pair.page_size, "offset": start}

    def _fields(self, raw: Any) -> None:
        if not isinstance(raw, Mapping):
            self.refuse("fields", raw, "`fields` must be an object")
            return
        fields: dict[str, Any] = {}
        for path, spec, value in self._known_fields(raw, "fields"):
            if spec.read_only:
                self.refuse(path, value, f"`{spec.name}` is read-only in v3")
            else:
                converted = self._value(spec.name, spec.type, value, path)
                if converted is not _BAD:
                    fields[spec.name] = converted
        if self.pair.kind is Kind.ADD:
            for name in self.pair.add_requires:
                if name not in fields:
                    self.refuse(f"fields.{name}", None, f"v3 {self.pair.method} requires `{name}`; v2 may fill it "
                                "itself (the creator is the caller), v3 does not: add it to the v2 fields")
        self.out["fields"] = fields


_BETWEEN_PAIR = "`><` (between) needs a [from, to] pair"


def _why_no_operator(prefix: str) -> str:
    if prefix in ("!", "!="):
        return "`!` with a list means \"not in\", which has no REST v3 twin"
    if prefix == "><":
        return _BETWEEN_PAIR
    return f"`{prefix}` compares with one value, not a list"


_BAD = object()
_Take = Callable[[str], tuple[bool, Any]]  # a top-level v2 param by name: (found, value)


def _as_int(value: Any) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, float):
        return int(value) if value.is_integer() else None
    if isinstance(value, str):
        text = value.strip()
        if text.lstrip("-").isdigit():
            return int(text)
    return None
