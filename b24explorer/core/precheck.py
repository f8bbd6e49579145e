"""Checks of a request before it is sent: what the docs (the reference catalog) and the connection say is wrong.

:func:`check_request` returns typed :class:`Finding` values and never blocks anything itself: the window shows
them inline and in the log, the command line's ``--check`` turns them into an exit code. Without the catalog
(a broken install) the checks that need no docs still run: case collisions, the filter's shape for the API
version, and writes on a read-only connection.
"""

from __future__ import annotations

import difflib
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from enum import StrEnum
from typing import Any

from .filterops import split_v2_key, v3_operator
from .limits import command_method, is_read_only
from .paramkeys import case_collisions
from .reference import MethodRef, ReferenceCatalog, ReferenceCatalogError, reference_catalog


class Severity(StrEnum):
    ERROR = "error"  # the call fails or does not do what it says (a key silently ignored, a write refused)
    WARNING = "warning"  # likely a mistake, but the docs may be incomplete
    INFO = "info"  # worth knowing (deprecated, undocumented)


class Code(StrEnum):
    UNKNOWN_KEY = "unknown-key"
    CASE_COLLISION = "case-collision"
    CASE_MISMATCH = "case-mismatch"
    V2_FILTER_ON_V3 = "v2-filter-on-v3"
    V3_FILTER_ON_V2 = "v3-filter-on-v2"
    MISSING_REQUIRED = "missing-required"
    WRITE_ON_READ_ONLY = "write-on-read-only"
    SCOPE_NOT_GRANTED = "scope-not-granted"
    NEEDS_APP_CONTEXT = "needs-app-context"
    DEPRECATED = "deprecated"
    UNDOCUMENTED_METHOD = "undocumented-method"
    OTHER_API_VERSION = "other-api-version"
    BAD_BATCH_ROW = "bad-batch-row"


@dataclass(frozen=True, slots=True)
class Finding:
    code: Code
    severity: Severity
    path: str  # where in the params: "filter", "fields.title", "cmd.deals"; "" for the request as a whole
    message: str
    suggestion: str = ""  # what to write instead, when there is one answer


@dataclass(frozen=True, slots=True)
class ConnectionFacts:
    """What the checks know of the connection the request would go through."""

    read_only: bool = False  # the per-connection switch: writes are refused before they leave
    scopes: frozenset[str] | None = None  # the webhook's granted scopes, when its ``scope`` answer is known
    webhook: bool = True  # a webhook has no application context


# Keys every call may carry besides its documented params.
_ALWAYS_ALLOWED = frozenset({"auth"})
_V3_LOGIC_KEYS = frozenset({"logic", "conditions"})
_BASIC_SCOPES = frozenset({"basic", ""})


def check_request(
    method: str,
    params: Any,
    api: int = 2,
    facts: ConnectionFacts | None = None,
    catalog: ReferenceCatalog | None = None,
) -> list[Finding]:
    """Everything wrong with sending ``params`` to ``method`` (API ``api``, 2 or 3) over a connection with
    ``facts``; an empty list when nothing is. ``catalog`` defaults to the shipped reference catalog."""
    facts = facts or ConnectionFacts()
    method = method.strip()
    findings: list[Finding] = []
    findings += _read_only(method, params, facts)
    if catalog is None:
        try:
            catalog = reference_catalog()
        except ReferenceCatalogError:
            catalog = None
    entry = catalog.get(method, api) if catalog is not None else None
    if catalog is not None:
        findings += _method_findings(method, api, entry, catalog, facts)
    if isinstance(params, Mapping):
        collided = {key for pair in case_collisions(dict(params)) for key in pair}
        findings += _collisions(params)
        findings += _filter_shape(params, api)
        if entry is not None and method.lower() != "batch":
            findings += _key_findings(params, entry, collided)
            findings += _missing_required(params, entry)
    return findings


def check_batch(
    commands: Mapping[str, Any] | Sequence[Any],
    api: int = 2,
    facts: ConnectionFacts | None = None,
    catalog: ReferenceCatalog | None = None,
) -> list[Finding]:
    """:func:`check_request` for each command of a batch in the shapes ``B24Client.batch`` takes (a list of
    ``[method, params]`` / ``{"method", "params"}`` rows or a ``{label: row}`` map); each finding's path starts
    with the command's label or position. A row of no known shape is itself a finding."""
    from .client import normalize_batch
    from .errors import SdkError

    try:
        rows, _labelled = normalize_batch(commands)
    except SdkError as exc:
        return [Finding(Code.BAD_BATCH_ROW, Severity.ERROR, "", exc.description or str(exc))]
    findings: list[Finding] = []
    for row in rows:
        for finding in check_request(row.method, row.params, api, facts, catalog):
            path = f"{row.key}.{finding.path}" if finding.path else str(row.key)
            findings.append(replace(finding, path=path))
    return findings


def has_problems(findings: Sequence[Finding], at_least: Severity = Severity.WARNING) -> bool:
    """Whether any finding is at least as severe as ``at_least`` (the command line's ``--check`` exit code)."""
    order = [Severity.INFO, Severity.WARNING, Severity.ERROR]
    return any(order.index(f.severity) >= order.index(at_least) for f in findings)


# ------------------------------------------------------------------------------------------------ the checks


def _read_only(method: str, params: Any, facts: ConnectionFacts) -> list[Finding]:
    if not facts.read_only:
        return []
    if method.lower() == "batch":
        commands = params.get("cmd") if isinstance(params, Mapping) else None
        items = commands.items() if isinstance(commands, Mapping) else enumerate(commands or ())
        return [Finding(Code.WRITE_ON_READ_ONLY, Severity.ERROR, f"cmd.{key}",
                        f"{command_method(cmd)} may change data; this connection is read-only")
                for key, cmd in items if isinstance(cmd, str) and not is_read_only(command_method(cmd))]
    if is_read_only(method):
        return []
    return [Finding(Code.WRITE_ON_READ_ONLY, Severity.ERROR, "",
                    f"{method} may change data; this connection is read-only")]


def _method_findings(method: str, api: int, entry: MethodRef | None, catalog: ReferenceCatalog,
                     facts: ConnectionFacts) -> list[Finding]:
    if entry is None:
        other = catalog.get(method, 5 - api)
        if other is not None:
            return [Finding(Code.OTHER_API_VERSION, Severity.WARNING, "",
                            f"{other.name} is documented for REST v{other.api} only", f"send it as v{other.api}")]
        close = difflib.get_close_matches(method.lower(), [n.lower() for n in catalog.names(api)], n=1, cutoff=0.85)
        original = {n.lower(): n for n in catalog.names(api)}
        return [Finding(Code.UNDOCUMENTED_METHOD, Severity.INFO, "",
                        f"{method} is not in the REST v{api} docs", original[close[0]] if close else "")]
    findings: list[Finding] = []
    if entry.deprecated:
        findings.append(Finding(Code.DEPRECATED, Severity.INFO, "", f"{entry.name} is deprecated in the docs",
                                entry.replacement))
    if facts.scopes is not None and entry.scopes and not set(entry.scopes) & (facts.scopes | _BASIC_SCOPES):
        findings.append(Finding(Code.SCOPE_NOT_GRANTED, Severity.WARNING, "",
                                f"{entry.name} needs the scope {' or '.join(entry.scopes)}, "
                                "which this webhook is not granted"))
    if facts.webhook and entry.app_context:
        findings.append(Finding(Code.NEEDS_APP_CONTEXT, Severity.WARNING, "",
                                f"{entry.name} works only in an application's context, not through a webhook"))
    return findings


def _collisions(params: Mapping[str, Any]) -> list[Finding]:
    return [Finding(Code.CASE_COLLISION, Severity.ERROR, second,
                    f"{first!r} and {second!r} differ only by case: the portal keeps one and ignores the other",
                    f"keep one of {first!r} and {second!r}")
            for first, second in case_collisions(dict(params))]


def _bare(name: str) -> str:
    return name.removesuffix("[]")


def _key_findings(params: Mapping[str, Any], entry: MethodRef, collided: set[str]) -> list[Finding]:
    documented = {_bare(p.name) for p in entry.params}
    if not documented:
        return []  # the page lists no params: nothing to compare with
    by_lower = {name.lower(): name for name in documented}
    findings: list[Finding] = []
    for key in params:
        if not isinstance(key, str) or key in documented or key.lower() in _ALWAYS_ALLOWED:
            continue
        spelled = by_lower.get(key.lower())
        if spelled is not None:
            if key not in collided:
                findings.append(Finding(Code.CASE_MISMATCH, Severity.WARNING, key,
                                        f"{entry.name} spells it {spelled!r}, not {key!r}", spelled))
            continue
        close = difflib.get_close_matches(key.lower(), list(by_lower), n=1, cutoff=0.7)
        suggestion = by_lower[close[0]] if close else ""
        hint = f"; did you mean {suggestion!r}?" if suggestion else ""
        findings.append(Finding(Code.UNKNOWN_KEY, Severity.WARNING, key,
                                f"{entry.name} has no param {key!r}{hint}", suggestion))
    findings += _nested_case(params, entry)
    return findings


def _nested_case(params: Mapping[str, Any], entry: MethodRef) -> list[Finding]:
    """``fields: {"title": …}`` where the docs spell the field ``TITLE``: the same case check one level down."""
    findings: list[Finding] = []
    for key, value in params.items():
        if not isinstance(key, str) or not isinstance(value, Mapping):
            continue
        by_lower = {_bare(p.name).lower(): _bare(p.name) for p in entry.nested(key)}
        for inner in value:
            spelled = by_lower.get(inner.lower()) if isinstance(inner, str) else None
            if spelled is not None and spelled != inner and spelled not in value:
                findings.append(Finding(Code.CASE_MISMATCH, Severity.WARNING, f"{key}.{inner}",
                                        f"{entry.name} spells {key}.{spelled}, not {inner!r}", spelled))
    return findings


def _missing_required(params: Mapping[str, Any], entry: MethodRef) -> list[Finding]:
    present = {key.lower() for key in params if isinstance(key, str)}
    return [Finding(Code.MISSING_REQUIRED, Severity.ERROR, _bare(p.name),
                    f"{entry.name} requires {_bare(p.name)!r}")
            for p in entry.required if _bare(p.name).lower() not in present]


def _filter_shape(params: Mapping[str, Any], api: int) -> list[Finding]:
    findings: list[Finding] = []
    for key, value in params.items():
        if not isinstance(key, str) or key.lower() != "filter":
            continue
        if api == 3 and isinstance(value, Mapping) and not set(value) <= _V3_LOGIC_KEYS:
            suggestion = _as_v3_filter(value)
            findings.append(Finding(Code.V2_FILTER_ON_V3, Severity.ERROR, key,
                                    "a REST v2 filter object sent to a v3 method: v3 takes a list of "
                                    "[field, operator, value] conditions",
                                    json.dumps(suggestion, ensure_ascii=False) if suggestion is not None else ""))
        elif api == 2 and _looks_v3(value):
            converted = _as_v2_filter(value)
            findings.append(Finding(Code.V3_FILTER_ON_V2, Severity.ERROR, key,
                                    "a REST v3 filter (a list of conditions) sent to a v2 method: v2 takes an "
                                    "object of field → value, the operator as a key prefix (\">=ID\": 5)",
                                    json.dumps(converted, ensure_ascii=False) if converted is not None else ""))
    return findings


def _looks_v3(value: Any) -> bool:
    if isinstance(value, Mapping):
        return bool(value) and set(value) <= _V3_LOGIC_KEYS and "conditions" in value
    if not isinstance(value, list) or not value:
        return False
    return all((isinstance(item, list) and 2 <= len(item) <= 3 and isinstance(item[0], str))
               or (isinstance(item, Mapping) and "conditions" in item) for item in value)


def _as_v3_filter(value: Mapping[str, Any]) -> list[list[Any]] | None:
    """``{">=ID": 5, "STATUS": "NEW"}`` → ``[["ID", ">=", 5], ["STATUS", "=", "NEW"]]``; None when a key uses an
    operator v3 has no equivalent for (LIKE, NOT IN; see ``filterops``)."""
    conditions: list[list[Any]] = []
    for key, item in value.items():
        prefix, field = split_v2_key(str(key))
        operator = v3_operator(prefix, isinstance(item, list))
        if operator is None:
            return None
        conditions.append([field, operator, item])
    return conditions


def _as_v2_filter(value: Any) -> dict[str, Any] | None:
    """The plain AND list of v3 conditions as a v2 object; None for OR groups and ``between`` (no one answer)."""
    if not isinstance(value, list):
        return None
    result: dict[str, Any] = {}
    for item in value:
        if not isinstance(item, list):
            return None
        field, operator, operand = (item[0], "in", item[1]) if len(item) == 2 else item
        prefix = {"=": "", "in": "@", "!=": "!=", ">": ">", ">=": ">=", "<": "<", "<=": "<="}.get(operator)
        if prefix is None:
            return None
        result[f"{prefix}{field}"] = operand
    return result
