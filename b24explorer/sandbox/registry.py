"""What a method handler sees and returns, and the two registries (REST v2 and REST v3)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .portal import Portal, Webhook


class ApiError(Exception):
    """An error answer: HTTP status, code, description (and v3 validation items)."""

    def __init__(self, status: int, code: str, description: str,
                 validation: list[dict[str, str]] | None = None) -> None:
        super().__init__(f"{code}: {description}")
        self.status = status
        self.code = code
        self.description = description
        self.validation = validation


@dataclass
class Answer:
    result: Any
    total: int | None = None
    next: int | None = None
    bare: bool = False  # the body is `result` itself, without the envelope (OpenAPI document)


@dataclass
class Ctx:
    portal: Portal
    hook: Webhook
    method: str
    params: dict[str, Any]
    api: int

    def param(self, name: str, default: Any = None) -> Any:
        """A top-level parameter, matched case-insensitively as the old REST modules do."""
        params = self.params
        if name in params:
            return params[name]
        lower = name.lower()
        for key, value in params.items():
            if str(key).lower() == lower:
                return value
        return default

    def wrote(self) -> None:
        self.portal.counters.count_write(self.method)


Handler = Callable[[Ctx], Answer]


@dataclass
class MethodSpec:
    name: str
    handler: Handler
    scope: str  # "" = basic (any webhook)
    cost: float = 0.01  # simulated operating seconds per call
    write: bool = False
    params: dict[str, Any] = field(default_factory=dict)  # v3: JSON schema of the body, for OpenAPI
    summary: str = ""


V2: dict[str, MethodSpec] = {}
V3: dict[str, MethodSpec] = {}


def v2(name: str, scope: str, cost: float = 0.01, write: bool = False) -> Callable[[Handler], Handler]:
    def register(fn: Handler) -> Handler:
        V2[name] = MethodSpec(name, fn, scope, cost, write)
        return fn

    return register


def v3(name: str, scope: str, cost: float = 0.01, write: bool = False, params: dict[str, Any] | None = None,
       summary: str = "") -> Callable[[Handler], Handler]:
    def register(fn: Handler) -> Handler:
        V3[name] = MethodSpec(name, fn, scope, cost, write, params or {}, summary)
        return fn

    return register


def as_list(value: Any) -> list[Any]:
    """PHP-style arrays arrive as lists (JSON) or as dicts (`select[0]=` in a query string)."""
    if value is None or value == "":
        return []
    if isinstance(value, list):
        return value
    if isinstance(value, dict):
        return list(value.values())
    return [value]


def as_int(value: Any, default: int | None = None) -> int | None:
    if isinstance(value, bool):
        return default
    try:
        return int(str(value).strip())
    except (TypeError, ValueError):
        try:
            return int(float(str(value).strip()))
        except (TypeError, ValueError):
            return default


def truthy(value: Any) -> bool:
    if isinstance(value, bool):
        return value
    return str(value).strip().upper() in {"Y", "1", "TRUE", "YES"}
