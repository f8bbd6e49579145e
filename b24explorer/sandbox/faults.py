"""Fault injection: what the next requests to a method (or to every method) should suffer."""

from __future__ import annotations

import random
import threading
from dataclasses import asdict, dataclass, field
from typing import Any

KINDS = ("status", "html", "truncated", "reset_before", "reset_after", "delay", "redirect", "error_in_200")

SPEC_HELP = """\
Fault SPEC: KIND[:METHOD][,key=value...]
  KIND     one of: status, html, truncated, reset_before, reset_after, delay, redirect, error_in_200
  METHOD   a method name (case-insensitive); omitted or * = every method
  keys     count=N (next N requests; default 1 unless probability is given), probability=P (0..1),
           status=HTTP, code=ERROR_CODE, description=TEXT, seconds=S (delay), location=URL (redirect)
Examples:
  status:crm.deal.get,count=2,status=503,code=QUERY_LIMIT_EXCEEDED
  delay,seconds=0.5,probability=0.1
  reset_after:crm.deal.add"""


@dataclass
class Fault:
    kind: str
    method: str | None = None
    count: int | None = None
    probability: float | None = None
    status: int | None = None
    code: str | None = None
    description: str | None = None
    seconds: float = 0.0
    location: str | None = None
    fired: int = field(default=0)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


class FaultError(ValueError):
    pass


def make_fault(kind: str, method: str | None = None, count: int | None = None,
               probability: float | None = None, **extra: Any) -> Fault:
    if kind not in KINDS:
        raise FaultError(f"unknown fault kind {kind!r}; expected one of {', '.join(KINDS)}")
    unknown = set(extra) - {"status", "code", "description", "seconds", "location"}
    if unknown:
        raise FaultError(f"unknown fault field(s): {', '.join(sorted(unknown))}")
    try:
        if count is not None:
            count = int(count)
            if count < 1:
                raise FaultError("count must be at least 1")
        if probability is not None:
            probability = float(probability)
            if not 0.0 <= probability <= 1.0:
                raise FaultError("probability must be between 0 and 1")
        if count is None and probability is None:
            count = 1
        status = extra.get("status")
        seconds = float(extra.get("seconds") or 0.0)
        if seconds < 0 or seconds > 600:
            raise FaultError("seconds must be between 0 and 600")
        return Fault(
            kind=kind,
            method=None if method in (None, "", "*") else str(method).lower(),
            count=count, probability=probability,
            status=None if status is None else int(status),
            code=None if extra.get("code") is None else str(extra["code"]),
            description=None if extra.get("description") is None else str(extra["description"]),
            seconds=seconds,
            location=None if extra.get("location") is None else str(extra["location"]),
        )
    except (TypeError, ValueError) as exc:
        if isinstance(exc, FaultError):
            raise
        raise FaultError(f"bad fault value: {exc}") from exc


def parse_spec(spec: str) -> Fault:
    """`status:crm.deal.get,count=2,status=503,code=QUERY_LIMIT_EXCEEDED` -> Fault (see SPEC_HELP)."""
    head, _, rest = spec.strip().partition(",")
    kind, _, method = head.partition(":")
    extra: dict[str, Any] = {}
    for item in filter(None, (p.strip() for p in rest.split(","))):
        key, sep, value = item.partition("=")
        if not sep:
            raise FaultError(f"expected key=value in fault spec, got {item!r}")
        extra[key.strip()] = value.strip()
    count = extra.pop("count", None)
    probability = extra.pop("probability", None)
    return make_fault(kind.strip(), method.strip() or None, count, probability, **extra)


class Faults:
    """Thread-safe list of armed faults; `take` pops the first one that applies to a method."""

    def __init__(self, seed: int = 0) -> None:
        self._lock = threading.Lock()
        self._faults: list[Fault] = []
        self._rng = random.Random(seed)

    def add(self, kind: str, method: str | None = None, count: int | None = None,
            probability: float | None = None, **extra: Any) -> Fault:
        fault = make_fault(kind, method, count, probability, **extra)
        with self._lock:
            self._faults.append(fault)
        return fault

    def add_fault(self, fault: Fault) -> Fault:
        with self._lock:
            self._faults.append(fault)
        return fault

    def clear(self) -> None:
        with self._lock:
            self._faults.clear()

    def list(self) -> list[Fault]:
        with self._lock:
            return list(self._faults)

    def take(self, method: str) -> Fault | None:
        with self._lock:
            for fault in self._faults:
                if fault.method is not None and fault.method != method:
                    continue
                if fault.count is not None:
                    fault.count -= 1
                    fault.fired += 1
                    if fault.count <= 0:
                        self._faults.remove(fault)
                    return fault
                if fault.probability is not None and self._rng.random() < fault.probability:
                    fault.fired += 1
                    return fault
            return None
