"""Which methods a connection called over REST v2 that its portal offers in REST v3, and how ready they are.

Reads the history only through `HistoryStore.search` (newest first, paged), so the report does not depend on
how history rows name their connection.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

from ..history import HistoryEntry, HistoryStore
from ..v3 import BUILTIN_V3_METHODS
from .pairs import pair_for
from .schema import SchemaSet
from .translate import translate

_PAGE = 500
_KINDS = ("call", "list")  # a batch's commands are not single v2 calls of one method


@dataclass(frozen=True)
class MethodUsage:
    method: str
    calls: int  # v2 calls recorded
    clean: int  # of them, how many have params that translate to v3 without a problem
    last_called: float  # unix seconds
    has_rule: bool  # False: v3 offers the method but there is no v2 → v3 translation rule for it
    reasons: tuple[str, ...] = ()  # the distinct reasons why some calls' params do not translate
    example: Any = None  # the params of the latest call that does not translate (else of the latest call)

    @property
    def translates_cleanly(self) -> bool:
        return self.has_rule and self.clean == self.calls


@dataclass(frozen=True)
class MigrationReport:
    methods: tuple[MethodUsage, ...]  # most called first
    scanned: int  # v2 calls read from the history
    schema_sources: dict[str, str]  # object (`TaskDto`) → where its v3 field names came from: portal | builtin

    @property
    def ready(self) -> tuple[MethodUsage, ...]:
        return tuple(m for m in self.methods if m.translates_cleanly)


@dataclass
class _Tally:
    method: str
    calls: int = 0
    clean: int = 0
    last: float = 0.0
    reasons: dict[str, None] = field(default_factory=dict)
    example: Any = None
    example_failed: bool = False


def build_report(entries: Iterable[HistoryEntry], v3_methods: Iterable[str] = BUILTIN_V3_METHODS,
                 schemas: SchemaSet | None = None) -> MigrationReport:
    """The report over history entries: the v2 calls of methods in `v3_methods` (what the portal offers)."""
    offered = {m.lower() for m in v3_methods}
    schemas = schemas or SchemaSet()
    tallies: dict[str, _Tally] = {}
    scanned = 0
    for entry in entries:
        if entry.api != 2 or entry.kind not in _KINDS:
            continue
        scanned += 1
        method = entry.method.strip().lower()
        if method not in offered:
            continue
        tally = tallies.setdefault(method, _Tally(method))
        tally.calls += 1
        tally.last = max(tally.last, entry.timestamp)
        params = entry.params_value()
        failed = pair_for(method) is None
        if not failed:
            translation = translate(method, params, schemas)
            failed = not translation.clean
            tally.clean += int(not failed)
            for problem in translation.problems:
                tally.reasons.setdefault(f"{problem.path}: {problem.reason}" if problem.path else problem.reason)
        if tally.example is None or (failed and not tally.example_failed):
            tally.example, tally.example_failed = params, failed
    usages = [
        MethodUsage(t.method, t.calls, t.clean, t.last, pair_for(t.method) is not None, tuple(t.reasons), t.example)
        for t in tallies.values()
    ]
    usages.sort(key=lambda u: (-u.calls, u.method))
    return MigrationReport(tuple(usages), scanned, schemas.sources())


def history_entries(store: HistoryStore, connection: str) -> Iterator[HistoryEntry]:
    """Every recorded request of one connection, newest first, read page by page."""
    offset = 0
    while True:
        page = store.search(connection=connection, limit=_PAGE, offset=offset)
        yield from page
        if len(page) < _PAGE:
            return
        offset += len(page)


def report_for_connection(store: HistoryStore, connection: str, v3_methods: Iterable[str] = BUILTIN_V3_METHODS,
                          openapi: Any = None) -> MigrationReport:
    """The report from a connection's history; `openapi` is the portal's OpenAPI document when known."""
    return build_report(history_entries(store, connection), v3_methods, SchemaSet(openapi))
