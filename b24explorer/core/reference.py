"""The offline reference catalog: every method the public REST docs document, with its params and flags.

Built by ``scripts/gen_reference_catalog.py`` from a checkout of the docs and shipped as
``resources/reference/reference-catalog.json.gz`` (its license notice beside it). Nothing is read at import: the
first :func:`reference_catalog` call loads the file (about 0.1 s, ~2 MB) and later calls return the same object,
so a window can ask for it after its first paint. Facts only — the docs' prose stays behind :attr:`MethodRef.doc_url`.
"""

from __future__ import annotations

import gzip
import json
import threading
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .hints import doc_url
from .resource_files import resource_path

CATALOG_FILE = "reference-catalog.json.gz"
FORMAT = 1


class ReferenceCatalogError(Exception):
    """The shipped catalog is missing or unreadable (a broken install); the app works on without it."""


@dataclass(frozen=True, slots=True)
class ParamRef:
    name: str
    type: str = ""
    required: bool = False


@dataclass(frozen=True, slots=True)
class MethodRef:
    """One documented method of one API version."""

    name: str
    api: int  # 2 or 3
    scopes: tuple[str, ...] = ()
    params: tuple[ParamRef, ...] = ()
    fields: Mapping[str, tuple[ParamRef, ...]] = field(default_factory=dict)  # nested fields of a param
    app_context: bool = False  # works only in an application's context (not through a webhook)
    admin: bool = False  # the docs name administrators among who may call it
    deprecated: bool = False
    replacement: str = ""  # a method (or family, ``crm.item.productrow.*``) or a docs page path
    twin: str = ""  # the same method in the other API version
    doc: str = ""  # the page's path in the docs repository

    @property
    def doc_url(self) -> str:
        return doc_url(self.doc)

    @property
    def required(self) -> tuple[ParamRef, ...]:
        return tuple(p for p in self.params if p.required)

    def flag_phrases(self) -> list[str]:
        """The flags as short phrases: application context, administrators, deprecated → replacement, twin."""
        flags = []
        if self.app_context:
            flags.append("application context only (not through a webhook)")
        if self.admin:
            flags.append("administrators")
        if self.deprecated:
            flags.append(f"deprecated → {self.replacement}" if self.replacement else "deprecated")
        if self.twin:
            flags.append(f"REST v{5 - self.api} twin: {self.twin}")
        return flags

    def param(self, name: str) -> ParamRef | None:
        return next((p for p in self.params if p.name == name), None)

    def template(self) -> dict[str, Any]:
        """A params template from the docs: the required params (and ``fields``, the record of an add or update,
        even where the docs call it optional), each with a placeholder of its type; an object with documented
        fields holds its required ones. Empty when the docs require nothing."""
        out: dict[str, Any] = {}
        for param in self.params:
            if param.required or param.name.lower() == "fields":
                nested = [f for f in self.nested(param.name) if f.required]
                out[param.name] = ({f.name: placeholder(f.type) for f in nested} if nested
                                   else placeholder(param.type))
        return out

    def nested(self, param: str) -> tuple[ParamRef, ...]:
        """The documented fields of ``param`` (``fields``, ``rows``, …), matched without regard to case."""
        if param in self.fields:
            return self.fields[param]
        lowered = param.lower()
        return next((rows for key, rows in self.fields.items() if key.lower() == lowered), ())


def placeholder(type_name: str) -> Any:
    """A value of a documented type for a template to start from: 0, "", false, [] or {}."""
    kind = type_name.strip().lower()
    if kind == "array" or kind.endswith("[]"):
        return []
    if kind == "object":
        return {}
    if kind in ("integer", "int", "double", "float", "number", "user") or kind.endswith((".id", "_id")):
        return 0
    if kind == "boolean":
        return False
    return ""


class ReferenceCatalog:
    """Look-ups over the documented methods: by name and version, by scope, by text."""

    def __init__(self, methods: Sequence[MethodRef], commit: str | None = None) -> None:
        self.commit = commit
        self._methods = tuple(methods)
        self._by_key = {(m.name.lower(), m.api): m for m in self._methods}

    def __len__(self) -> int:
        return len(self._methods)

    def __iter__(self) -> Iterator[MethodRef]:
        return iter(self._methods)

    def get(self, name: str, api: int | None = None) -> MethodRef | None:
        """The method's entry (names compare without regard to case, as the portal does); with ``api=None`` the
        v2 entry when there is one, else the v3 one."""
        key = name.strip().lower()
        if api is not None:
            return self._by_key.get((key, api))
        return self._by_key.get((key, 2)) or self._by_key.get((key, 3))

    def names(self, api: int | None = None) -> list[str]:
        return [m.name for m in self._methods if api is None or m.api == api]

    def count(self, api: int | None = None) -> int:
        return sum(1 for m in self._methods if api is None or m.api == api)

    def scopes(self) -> list[str]:
        return sorted({s for m in self._methods for s in m.scopes})

    def in_scope(self, scope: str) -> list[MethodRef]:
        return [m for m in self._methods if scope in m.scopes]

    def search(self, text: str, api: int | None = None) -> list[MethodRef]:
        """Methods whose name contains ``text`` (case-insensitive), exact matches first, then by name."""
        needle = text.strip().lower()
        hits = [m for m in self._methods if needle in m.name.lower() and (api is None or m.api == api)]
        return sorted(hits, key=lambda m: (m.name.lower() != needle, not m.name.lower().startswith(needle),
                                           m.name.lower(), m.api))


def catalog_path() -> Path | None:
    """Where the shipped catalog is (see :mod:`resource_files`: installed, frozen or a checkout), or None."""
    return resource_path("reference", CATALOG_FILE)


def _params(rows: Sequence[Mapping[str, Any]], shared: dict[Any, Any]) -> tuple[ParamRef, ...]:
    """The rows as params; an equal param (``id``, integer, required) is one object however many methods have it."""
    params = []
    for row in rows:
        key = (str(row["name"]), str(row.get("type", "")), bool(row.get("required")))
        param = shared.get(key)
        if param is None:
            param = shared[key] = ParamRef(*key)
        params.append(param)
    return tuple(params)


def parse_catalog(document: Mapping[str, Any]) -> ReferenceCatalog:
    if document.get("format") != FORMAT or not isinstance(document.get("methods"), list):
        raise ReferenceCatalogError(f"reference catalog: unknown format {document.get('format')!r}")
    shared: dict[Any, Any] = {}
    methods = []
    for entry in document["methods"]:
        methods.append(MethodRef(
            name=entry["name"],
            api=int(entry["api"]),
            scopes=tuple(entry.get("scopes", ())),
            params=_params(entry.get("params", ()), shared),
            fields={key: _params(rows, shared) for key, rows in entry.get("fields", {}).items()},
            app_context=bool(entry.get("app_context")),
            admin=bool(entry.get("admin")),
            deprecated=bool(entry.get("deprecated")),
            replacement=entry.get("replacement", ""),
            twin=entry.get("twin", ""),
            doc=entry.get("doc", ""),
        ))
    return ReferenceCatalog(methods, document.get("commit"))


def load_catalog(path: Path) -> ReferenceCatalog:
    """Reads a catalog file; raises :class:`ReferenceCatalogError` with the reason when it cannot."""
    try:
        document = json.loads(gzip.decompress(path.read_bytes()))
    except (OSError, EOFError, ValueError) as exc:
        raise ReferenceCatalogError(f"reference catalog {path.name} cannot be read: {exc}") from exc
    if not isinstance(document, dict):
        raise ReferenceCatalogError(f"reference catalog {path.name}: not a catalog document")
    try:
        return parse_catalog(document)
    except (KeyError, TypeError, ValueError, AttributeError) as exc:
        raise ReferenceCatalogError(f"reference catalog {path.name}: malformed entry ({exc!r})") from exc


_lock = threading.Lock()
_loaded: ReferenceCatalog | None = None


def reference_catalog() -> ReferenceCatalog:
    """The shipped catalog, loaded on the first call (from any thread) and kept."""
    global _loaded
    with _lock:
        if _loaded is None:
            path = catalog_path()
            if path is None:
                raise ReferenceCatalogError(f"the reference catalog ({CATALOG_FILE}) is not installed")
            _loaded = load_catalog(path)
        return _loaded


def is_loaded() -> bool:
    """Whether :func:`reference_catalog` has read the file yet (the window asks it after its first paint)."""
    return _loaded is not None
