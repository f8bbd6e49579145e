"""Typed answers: AjaxResult (one HTTP answer), BatchResult (per-command rows), ListResult (list-all)."""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

from .errors import AjaxError
from .jsondoc import Document, materialize
from .jsondoc import parse as parse_json

BASE_ERROR = "base-error"


def _float(value: Any) -> float | None:
    try:
        return None if value is None else float(value)
    except (TypeError, ValueError):
        return None


@dataclass(frozen=True)
class TimeInfo:
    """The `time` block of an answer. `operating`/`operating_reset_at` are seconds, as on the wire."""

    start: float | None = None
    finish: float | None = None
    duration: float | None = None
    processing: float | None = None
    date_start: str | None = None
    date_finish: str | None = None
    operating: float | None = None
    operating_reset_at: float | None = None

    @classmethod
    def from_value(cls, value: Any) -> TimeInfo | None:
        if not isinstance(value, Mapping):
            return None
        return cls(
            start=_float(value.get("start")),
            finish=_float(value.get("finish")),
            duration=_float(value.get("duration")),
            processing=_float(value.get("processing")),
            date_start=value.get("date_start"),
            date_finish=value.get("date_finish"),
            operating=_float(value.get("operating")),
            operating_reset_at=_float(value.get("operating_reset_at")),
        )

    def to_dict(self) -> dict[str, Any]:
        return {k: v for k, v in self.__dict__.items() if v is not None}


def error_from_envelope(
    error: Any,
    description: Any,
    *,
    status: int,
    method: str | None,
    params: Any,
    request_id: str | None,
    secrets: tuple[str, ...] = (),
) -> AjaxError:
    """The AjaxError for an `error` value of a v2 (string) or v3 (object) envelope (SDK §2.2)."""
    validation: list[dict[str, Any]] = []
    if isinstance(error, Mapping):
        code = str(error.get("code") or "JSSDK_RESPONSE_ERROR")
        text = str(error.get("message") or "").rstrip()
        rows = error.get("validation")
        if isinstance(rows, list) and rows:
            validation = [r if isinstance(r, dict) else {"message": r} for r in rows]
            if text and not text.endswith("."):
                text += "."
            text += " " + "".join(
                str(r.get("message")) if isinstance(r, Mapping) and r.get("message") else json.dumps(r)
                for r in rows
            )
    else:
        code = str(error)
        if code == "0":
            code = "JSSDK_RESPONSE_ERROR"
        text = str(description) if description else "Some error in response"
    return AjaxError(
        code,
        text,
        status,
        method=method,
        params=params,
        request_id=request_id,
        validation=validation,
        secrets=secrets,
    )


class AjaxResult:
    """One HTTP answer of the portal. Built from the raw body; parsed lazily.

    `raw` keeps the exact bytes so a viewer can render big bodies without re-parsing; `document` is the lazy
    view of the whole body; `result`/`data` materialise Python objects on first access.
    """

    def __init__(
        self,
        raw: bytes,
        *,
        status: int,
        method: str,
        params: Any = None,
        request_id: str | None = None,
        api: int = 2,
        elapsed: float = 0.0,
        headers: Mapping[str, str] | None = None,
        document: Document | None = None,
        secrets: tuple[str, ...] = (),
    ) -> None:
        self.raw = raw
        self.status = status
        self.method = method
        self.params = params
        self.request_id = request_id
        self.api = api
        self.elapsed = elapsed
        self.headers: dict[str, str] = dict(headers or {})
        self.document = document if document is not None else parse_json(raw)
        self.errors: dict[str, AjaxError] = {}
        err = self.document.value("error") if self.document.is_object else None
        description = self.document.value("error_description") if err is not None else None
        if err == "" and description:
            # `{"error": "", "error_description": "Not found"}` (crm.*.get of a missing id): no code given.
            err = "ERR_BAD_REQUEST" if 400 <= status < 500 else "ERR_BAD_RESPONSE" if status >= 500 else "0"
        if err:
            self.errors[BASE_ERROR] = error_from_envelope(
                err,
                description,
                status=status,
                method=method,
                params=params,
                request_id=request_id,
                secrets=secrets,
            )

    @classmethod
    def from_error(cls, error: AjaxError, *, api: int = 2, elapsed: float = 0.0) -> AjaxResult:
        """A failed result for a soft error that came as an exception (SDK §4.2 step 4.3)."""
        body = {"error": error.code, "error_description": error.description}
        res = cls(
            json.dumps(body).encode(),
            status=error.status,
            method=error.method or "",
            params=error.request_info.get("params"),
            request_id=error.request_id,
            api=api,
            elapsed=elapsed,
        )
        res.errors[BASE_ERROR] = error
        return res

    # --- envelope -------------------------------------------------------------------------------------
    @property
    def is_success(self) -> bool:
        return not self.errors

    @property
    def error(self) -> AjaxError | None:
        return next(iter(self.errors.values()), None)

    @property
    def error_messages(self) -> list[str]:
        return [e.message for e in self.errors.values()]

    @cached_property
    def result(self) -> Any:
        if self.document.has("result"):
            return self.document.value("result")
        if self.document.is_object and not self.errors and not self.document.has("time"):
            # A bare document (rest.documentation.openapi answers without the result wrapper).
            return self.document.to_python()
        if not self.document.is_object and not self.document.is_array:
            return self.document.root
        return None

    @cached_property
    def time(self) -> TimeInfo | None:
        return TimeInfo.from_value(self.document.value("time"))

    @property
    def data(self) -> dict[str, Any] | None:
        """`{"result", "time"}` as the SDK's getData(); None when the call failed."""
        if not self.is_success:
            return None
        return {"result": self.result, "time": self.document.value("time")}

    @property
    def total(self) -> int:
        if not self.is_success:
            return 0
        try:
            return int(materialize(self.document.get("total")) or 0)
        except (TypeError, ValueError):
            return 0

    @property
    def next(self) -> int | None:
        value = self.document.get("next")
        if isinstance(value, bool) or value is None:
            return None
        try:
            return int(value)
        except (TypeError, ValueError):
            return None

    @property
    def is_more(self) -> bool:
        return self.is_success and self.next is not None

    @property
    def size(self) -> int:
        return len(self.raw)

    @property
    def idempotency_key(self) -> str | None:
        """The `Idempotency-Key` this (v3 write) was sent with, as the portal echoed it."""
        return _header(self.headers, "idempotency-key")

    @property
    def replayed(self) -> bool:
        """The portal answered a repeat of an idempotent v3 write with its stored answer (`Idempotent-Replayed:
        true`): the method did not run again."""
        return (_header(self.headers, "idempotent-replayed") or "").strip().lower() == "true"

    def envelope(self) -> dict[str, Any]:
        """The full body as Python (materialises everything)."""
        value = self.document.to_python()
        return value if isinstance(value, dict) else {"result": value}

    def __repr__(self) -> str:
        state = "success" if self.is_success else f"failure {self.error.code if self.error else ''}"
        return (
            f"AjaxResult({self.method!r}, api={self.api}, status={self.status}, {state}, "
            f"request_id={self.request_id!r}, size={self.size})"
        )


def _header(headers: Mapping[str, str], name: str) -> str | None:
    for key, value in headers.items():
        if key.lower() == name:
            return value
    return None


@dataclass
class BatchRow:
    """One command of a batch: its label (str) or position (int), its result or error."""

    key: str | int
    method: str
    result: Any = None
    error: AjaxError | None = None
    total: int = 0
    next: int | None = None
    time: TimeInfo | None = None
    status: int = 200
    executed: bool = True  # False for rows a halted batch never ran

    @property
    def is_success(self) -> bool:
        return self.executed and self.error is None and self.status == 200


@dataclass
class BatchResult:
    """Rows in command order (labels kept), errors keyed like the SDK (label, position string, `base-error`)."""

    rows: list[BatchRow]
    labelled: bool
    api: int = 2
    response: AjaxResult | None = None
    errors: dict[str, AjaxError] = field(default_factory=dict)
    responses: list[AjaxResult] = field(
        default_factory=list
    )  # one per HTTP request (batch_by_chunk: several)

    @property
    def is_success(self) -> bool:
        return not self.errors

    @property
    def data(self) -> Any:
        """The SDK's default shape: successful rows' results (a list, or a map keyed by label)."""
        ok = [r for r in self.rows if r.is_success]
        if self.labelled:
            return {str(r.key): r.result for r in ok}
        return [r.result for r in ok]

    @property
    def error_messages(self) -> list[str]:
        return [e.message for e in self.errors.values()]

    @property
    def request_id(self) -> str | None:
        return self.response.request_id if self.response else None

    def __getitem__(self, key: str | int) -> BatchRow:
        for row in self.rows:
            if row.key == key or str(row.key) == str(key):
                return row
        raise KeyError(key)

    def __iter__(self) -> Iterator[BatchRow]:
        return iter(self.rows)

    def __len__(self) -> int:
        return len(self.rows)


@dataclass
class ListResult:
    """Everything a list-all fetched. `complete` is False when it stopped early; `incomplete_reason` then says
    why (the first error, a cancel, the page cap, a cursor that did not advance or could not be read)."""

    items: list[Any] = field(default_factory=list)
    requests: int = 0
    errors: list[AjaxError] = field(default_factory=list)
    cancelled: bool = False
    complete: bool = False
    incomplete_reason: str | None = None
    pages: int = 0
    elapsed: float = 0.0
    waited: float = 0.0

    @property
    def is_success(self) -> bool:
        return self.complete and not self.errors

    @property
    def error_messages(self) -> list[str]:
        return [e.message for e in self.errors]
