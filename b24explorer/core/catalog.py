"""The method picker's data: every method known for a connection, searchable and grouped by scope.

Sources, merged into one :class:`MethodEntry` per method name:

- the built-in :mod:`hints` (descriptions, templates, docs links) and the documented REST v3 list;
- the connection's ``methods`` answer (what this webhook may call) and ``scope`` answer (granted scopes);
- the portal's v3 OpenAPI document (``rest.documentation.openapi``): its ``paths`` are the v3 methods, their
  request schemas become params templates.

Search matches fragments the way integrators type them: ``deal.li`` finds ``crm.deal.list``. Ranking: exact >
prefix > start of a dotted word > substring > subsequence (fuzzy) > description; recently used methods first
within a rank.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from .hints import HINTS, MethodHint, doc_url
from .v3 import ALSO_IN_V2, BUILTIN_V3_METHODS, OPENAPI_METHOD

RECENT_GROUP = "Recent"

SOURCE_HINT = "hint"
SOURCE_PORTAL = "portal"
SOURCE_OPENAPI = "openapi"
SOURCE_V3_LIST = "v3-list"

# method-name prefixes whose scope is not simply the first segment
_PREFIX_SCOPE = {
    "tasks": "task",
    "task": "task",
    "server": "basic",
    "profile": "basic",
    "methods": "basic",
    "method": "basic",
    "scope": "basic",
    "app": "basic",
    "feature": "basic",
    "batch": "basic",
    "access": "basic",
    "event": "basic",
    "events": "basic",
    "documentation": "basic",
    "rest": "basic",
}


def scope_of(method: str) -> str:
    """A best guess of a method's scope from its name (``crm.deal.list`` → ``crm``)."""
    head = method.split(".", 1)[0].lower()
    return _PREFIX_SCOPE.get(head, head or "basic")


@dataclass
class MethodEntry:
    name: str
    scope: str
    description: str = ""
    in_v2: bool = True
    in_v3: bool = False
    v2_template: Any = None
    v3_template: Any = None
    doc_path: str = ""
    doc_path_v3: str = ""
    sources: set[str] = field(default_factory=set)
    #: None until the connection's ``methods``/``scope`` answers are known; then whether this webhook may call it
    available: bool | None = None

    @property
    def doc_url(self) -> str:
        return doc_url(self.doc_path or self.doc_path_v3)

    @property
    def doc_url_v3(self) -> str:
        return doc_url(self.doc_path_v3 or self.doc_path) if self.in_v3 else ""

    def template(self, api: int = 2) -> Any:
        first, second = (self.v3_template, self.v2_template) if api == 3 else (self.v2_template, self.v3_template)
        chosen = first if first is not None else second
        return chosen if chosen is not None else {}

    def template_text(self, api: int = 2) -> str:
        """The params template as the editor shows it."""
        return json.dumps(self.template(api), ensure_ascii=False, indent=2)

    @property
    def default_api(self) -> int:
        return 2 if self.in_v2 else 3

    # short names the picker uses
    @property
    def v2(self) -> bool:
        return self.in_v2

    @property
    def v3(self) -> bool:
        return self.in_v3

    @property
    def docs_url(self) -> str:
        return self.doc_url

    @property
    def title(self) -> str:
        return self.description


@dataclass(frozen=True)
class MethodGroup:
    title: str  # a scope name, or RECENT_GROUP
    entries: list[MethodEntry]


class Catalog:
    def __init__(self, hints: Iterable[MethodHint] = HINTS, v3_methods: Iterable[str] = BUILTIN_V3_METHODS) -> None:
        self._entries: dict[str, MethodEntry] = {}
        self._portal_methods: set[str] | None = None
        self._granted_scopes: set[str] | None = None
        self._openapi_methods: set[str] | None = None
        #: what could not be loaded from the portal, for the log pane (no secrets: method names and codes only)
        self.notices: list[str] = []
        for name in v3_methods:
            entry = self._entry(name)
            entry.in_v3 = True
            entry.in_v2 = name.lower() in ALSO_IN_V2
            entry.sources.add(SOURCE_V3_LIST)
        for h in hints:
            self._add_hint(h)

    # -- building

    def _entry(self, name: str) -> MethodEntry:
        key = name.strip().lower()
        entry = self._entries.get(key)
        if entry is None:
            entry = MethodEntry(name=key, scope=scope_of(key))
            self._entries[key] = entry
        return entry

    def _add_hint(self, h: MethodHint) -> None:
        entry = self._entry(h.name)
        entry.scope = h.scope
        entry.description = h.description
        entry.in_v2, entry.in_v3 = h.in_v2, h.in_v3 or entry.in_v3
        entry.v2_template, entry.v3_template = h.v2, h.v3
        entry.doc_path, entry.doc_path_v3 = h.doc, h.doc_v3
        entry.sources.add(SOURCE_HINT)

    def merge_methods(self, answer: Any) -> int:
        """The ``methods`` answer: a list of names (or a ``{scope: [names]}`` map). Returns how many were new."""
        names: list[str] = []
        if isinstance(answer, Mapping):
            for scope, items in answer.items():
                if isinstance(items, list):
                    names += [n for n in items if isinstance(n, str)]
                    for n in items:
                        if isinstance(n, str) and n.lower() not in self._entries:
                            self._entry(n).scope = str(scope)
        elif isinstance(answer, list):
            names = [n for n in answer if isinstance(n, str)]
        before = len(self._entries)
        self._portal_methods = {n.strip().lower() for n in names if n.strip()}
        for name in self._portal_methods:
            entry = self._entry(name)
            entry.sources.add(SOURCE_PORTAL)
            entry.in_v2 = True
        self._refresh_availability()
        return len(self._entries) - before

    def merge_scopes(self, answer: Any) -> None:
        """The ``scope`` answer: the scopes granted to this webhook."""
        if isinstance(answer, list):
            self._granted_scopes = {str(s).lower() for s in answer}
            self._refresh_availability()

    def merge_openapi(self, document: Any) -> int:
        """The portal's v3 OpenAPI document. Returns the number of v3 methods found; raises ValueError if none."""
        if not isinstance(document, Mapping) or not isinstance(document.get("paths"), Mapping):
            raise ValueError("the OpenAPI document has no paths")
        components = document.get("components", {}).get("schemas", {}) if isinstance(
            document.get("components"), Mapping) else {}
        found: set[str] = set()
        for path, item in document["paths"].items():
            name = str(path).strip("/").lower()
            if not name or not isinstance(item, Mapping):
                continue
            found.add(name)
            entry = self._entry(name)
            entry.in_v3 = True
            entry.sources.add(SOURCE_OPENAPI)
            if SOURCE_HINT not in entry.sources and SOURCE_PORTAL not in entry.sources:
                entry.in_v2 = name in ALSO_IN_V2
            operation = item.get("post") or item.get("get") or {}
            if not isinstance(operation, Mapping):
                continue
            tags = operation.get("tags")
            if SOURCE_HINT not in entry.sources:
                if isinstance(tags, list) and tags and isinstance(tags[0], str) and tags[0]:
                    entry.scope = tags[0]
                summary = operation.get("summary") or operation.get("description")
                if isinstance(summary, str) and summary and not entry.description:
                    entry.description = summary.strip().splitlines()[0]
            if entry.v3_template is None or SOURCE_HINT not in entry.sources:
                template = _operation_template(operation, components)
                if template is not None:
                    entry.v3_template = template
        if not found:
            raise ValueError("the OpenAPI document lists no methods")
        self._openapi_methods = found
        self._refresh_availability()
        return len(found)

    def _refresh_availability(self) -> None:
        for entry in self._entries.values():
            verdicts = []
            if self._portal_methods is not None:
                verdicts.append(entry.name in self._portal_methods)
            if self._openapi_methods is not None and entry.in_v3:
                verdicts.append(entry.name in self._openapi_methods)
            if self._granted_scopes is not None and not verdicts:
                verdicts.append(entry.scope.lower() in self._granted_scopes or entry.scope == "basic")
            entry.available = any(verdicts) if verdicts else None

    # -- reading

    @property
    def listed_methods(self) -> frozenset[str] | None:
        """The (lower-case) names the portal lists — its ``methods`` answer and its v3 OpenAPI paths — or None
        when neither is known."""
        if self._portal_methods is None and self._openapi_methods is None:
            return None
        return frozenset((self._portal_methods or set()) | (self._openapi_methods or set()))

    @property
    def granted_scopes(self) -> frozenset[str] | None:
        """The scopes the ``scope`` answer granted this webhook, or None when unknown."""
        return frozenset(self._granted_scopes) if self._granted_scopes is not None else None

    def get(self, name: str) -> MethodEntry | None:
        return self._entries.get(name.strip().lower())

    def __contains__(self, name: object) -> bool:
        return isinstance(name, str) and name.strip().lower() in self._entries

    def __iter__(self) -> Iterator[MethodEntry]:
        return iter(sorted(self._entries.values(), key=lambda e: e.name))

    def __len__(self) -> int:
        return len(self._entries)

    def scopes(self) -> list[str]:
        return sorted({e.scope for e in self._entries.values()}, key=_scope_order)

    def search(
        self,
        query: str = "",
        *,
        recent: Sequence[str] = (),
        api: int | None = None,
        only_available: bool = False,
        limit: int | None = None,
    ) -> list[MethodEntry]:
        """Entries matching ``query``, best first; with an empty query, recent ones first then by name."""
        recency = {name.lower(): i for i, name in reversed(list(enumerate(recent)))}
        scored: list[tuple[tuple[Any, ...], MethodEntry]] = []
        for entry in self._entries.values():
            if (api == 3 and not entry.in_v3) or (api == 2 and not entry.in_v2):
                continue
            if only_available and entry.available is False:
                continue
            rank = match_rank(query, entry.name, entry.description)
            if rank is None:
                continue
            r = recency.get(entry.name)
            scored.append(((rank, r is None, r if r is not None else 0, len(entry.name), entry.name), entry))
        scored.sort(key=lambda pair: pair[0])
        result = [entry for _, entry in scored]
        return result[:limit] if limit is not None else result

    def grouped(
        self, query: str = "", *, recent: Sequence[str] = (), api: int | None = None, only_available: bool = False
    ) -> list[MethodGroup]:
        """A "Recent" group (matching recent methods, most recent first), then one group per scope."""
        matches = self.search(query, recent=recent, api=api, only_available=only_available)
        wanted = {name.lower() for name in recent}
        recent_entries = [e for e in matches if e.name in wanted]
        recent_entries.sort(key=lambda e: [n.lower() for n in recent].index(e.name))
        groups: dict[str, list[MethodEntry]] = {}
        for entry in matches:
            groups.setdefault(entry.scope, []).append(entry)
        out = [MethodGroup(RECENT_GROUP, recent_entries)] if recent_entries else []
        if query.strip():
            # best matches first: order scope groups by their best entry
            order = list(dict.fromkeys(e.scope for e in matches))
        else:
            order = sorted(groups, key=_scope_order)
        out += [MethodGroup(scope, groups[scope]) for scope in order]
        return out


async def load_for(client: Any, hints: Iterable[MethodHint] = HINTS) -> Catalog:
    """The catalog of a connection (a ``B24Client``): hints, plus the portal's v3 OpenAPI document, ``methods``
    and ``scope`` — each optional: whatever fails is noted in ``notices`` and the rest still loads.

    The OpenAPI document is the one the client's v3 registry fetches (once per connection, shared with the
    migration warning of a call sent meanwhile); fetched here only when the registry did not ask the portal.
    """
    catalog = Catalog(hints)
    openapi = await _openapi(client, catalog)
    if openapi is not None:
        try:
            catalog.merge_openapi(openapi)
        except ValueError as exc:
            catalog.notices.append(f"{OPENAPI_METHOD}: {exc}")
    methods = await _fetch(client, catalog, "methods", api=2)
    if methods is not None:
        catalog.merge_methods(methods)
    scopes = await _fetch(client, catalog, "scope", api=2)
    if scopes is not None:
        catalog.merge_scopes(scopes)
    return catalog


async def _openapi(client: Any, catalog: Catalog) -> Any:
    shared = getattr(client, "v3_openapi", None)
    if shared is not None:
        document = await shared()
        if document is not None:
            return document
        failure = getattr(client.v3, "failure", None)
        if failure:
            catalog.notices.append(f"{OPENAPI_METHOD}: {failure}")
            return None
    return await _fetch(client, catalog, OPENAPI_METHOD, api=3)


async def _fetch(client: Any, catalog: Catalog, method: str, api: int) -> Any:
    try:
        res = await client.call(method, {}, api=api)
    except Exception as exc:  # any failure just leaves this source out
        catalog.notices.append(f"{method}: {getattr(exc, 'code', None) or type(exc).__name__}")
        return None
    if not res.is_success:
        catalog.notices.append(f"{method}: {'; '.join(res.error_messages) or 'failed'}")
        return None
    return res.result


def _scope_order(scope: str) -> tuple[int, str]:
    return (0 if scope == "basic" else 1, scope)


# ---------------------------------------------------------------- matching

_WORD_SPLIT = re.compile(r"[.\s_]+")


def match_rank(query: str, name: str, description: str = "") -> int | None:
    """0 exact, 1 prefix, 2 start of a dotted word, 3 substring, 4 subsequence, 5 description; None: no match.

    Several space-separated words must each match; the worst of their ranks counts.
    """
    q = query.strip().lower()
    if not q:
        return 0
    tokens = q.split()
    if len(tokens) > 1:
        ranks = [match_rank(t, name, description) for t in tokens]
        return None if any(r is None for r in ranks) else max(r for r in ranks if r is not None)
    name = name.lower()
    if name == q:
        return 0
    if name.startswith(q):
        return 1
    pos = name.find(q)
    if pos > 0:
        # any occurrence at a word start counts: "deal.li" in "crm.deal.list"
        while pos != -1:
            if name[pos - 1] in "._":
                return 2
            pos = name.find(q, pos + 1)
        return 3
    if _is_subsequence(q, name):
        return 4
    if description and q in description.lower():
        return 5
    return None


def _is_subsequence(needle: str, haystack: str) -> bool:
    it = iter(haystack)
    return all(ch in it for ch in needle if ch not in " ")


# ---------------------------------------------------------------- OpenAPI → params templates

_MAX_DEPTH = 5


def _operation_template(operation: Mapping[str, Any], components: Mapping[str, Any]) -> Any:
    body = operation.get("requestBody")
    if isinstance(body, Mapping):
        content = body.get("content")
        if isinstance(content, Mapping):
            media = content.get("application/json") or next(iter(content.values()), None)
            if isinstance(media, Mapping) and isinstance(media.get("schema"), Mapping):
                return template_from_schema(media["schema"], components)
    params = operation.get("parameters")
    if isinstance(params, list):
        out = {}
        for p in params:
            if isinstance(p, Mapping) and isinstance(p.get("name"), str) and p.get("in") in ("query", None):
                schema = p.get("schema")
                schema = schema if isinstance(schema, Mapping) else {}
                out[p["name"]] = template_from_schema(schema, components, depth=1)
        return out
    return None


def template_from_schema(schema: Mapping[str, Any], components: Mapping[str, Any], depth: int = 0) -> Any:
    """A params skeleton for a JSON schema: every top-level property, only required ones below it."""
    schema = _resolve(schema, components)
    if depth > _MAX_DEPTH:
        return None
    for key in ("example", "default"):
        if key in schema:
            return schema[key]
    if isinstance(schema.get("enum"), list) and schema["enum"]:
        return schema["enum"][0]
    for key in ("oneOf", "anyOf"):
        if isinstance(schema.get(key), list) and schema[key]:
            return template_from_schema(schema[key][0], components, depth)
    if isinstance(schema.get("allOf"), list):
        merged: dict[str, Any] = {}
        for part in schema["allOf"]:
            value = template_from_schema(part, components, depth)
            if isinstance(value, dict):
                merged.update(value)
        return merged
    kind = schema.get("type") or ("object" if "properties" in schema else None)
    if isinstance(kind, list):
        kind = next((k for k in kind if k != "null"), None)
    if kind == "object":
        props = schema.get("properties")
        props = props if isinstance(props, Mapping) else {}
        required = set(schema.get("required") or [])
        return {
            name: template_from_schema(sub if isinstance(sub, Mapping) else {}, components, depth + 1)
            for name, sub in props.items()
            if depth == 0 or name in required
        }
    if kind == "array":
        return []
    if kind in ("integer", "number"):
        minimum = schema.get("minimum")
        return minimum if isinstance(minimum, int | float) and not isinstance(minimum, bool) else 0
    if kind == "boolean":
        return False
    if kind == "string":
        return ""
    return None


def _resolve(schema: Mapping[str, Any], components: Mapping[str, Any]) -> Mapping[str, Any]:
    seen = 0
    while isinstance(schema, Mapping) and isinstance(schema.get("$ref"), str) and seen < 10:
        ref = schema["$ref"]
        target = components.get(ref.rsplit("/", 1)[-1]) if ref.startswith("#/components/schemas/") else None
        schema = target if isinstance(target, Mapping) else {}
        seen += 1
    return schema if isinstance(schema, Mapping) else {}
