"""What happened to one request the user sent — a call, a batch or a list-all — in the window or on the command
line. The workspace records it in the history (:meth:`b24explorer.core.workspace.Workspace.record`), the one
place both front-ends go through; the window also shows it.

Never holds the webhook. Built by the constructors below from what the client returned or raised, so the window
and the command line describe a request the same way.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from .errors import SdkError


class RequestKind(StrEnum):
    CALL = "call"
    BATCH = "batch"
    LIST = "list"


@dataclass
class RequestOutcome:
    """One request as sent and answered (or failed, or cancelled).

    Attributes:
        connection: the id of the connection it went through ("" when it had none, e.g. a bare webhook on the
            command line).
        connection_name: its name when sent (history shows it if the connection is gone later).
        response: the body to keep in the history (a list-all keeps a summary of its run instead).
        result: what the client returned (an ``AjaxResult``/``BatchResult``), for whoever shows it.
    """

    connection: str
    connection_name: str
    kind: RequestKind
    method: str
    api: int
    params: Any
    request_id: str | None = None
    started_at: float = 0.0
    elapsed: float = 0.0
    status: int | None = None
    size: int | None = None
    error_code: str = ""
    error_message: str = ""
    cancelled: bool = False
    response: bytes | None = None
    result: Any = None

    def __post_init__(self) -> None:
        if not self.started_at:
            self.started_at = time.time()

    @property
    def is_error(self) -> bool:
        return bool(self.error_code) or self.cancelled

    # --- filling in what happened -------------------------------------------------------------------
    def answered(self, result: Any, elapsed: float) -> RequestOutcome:
        """The client returned ``result`` (an ``AjaxResult``; its own error, if any, is noted)."""
        self.result = result
        self.elapsed = getattr(result, "elapsed", None) or elapsed
        self.status = getattr(result, "status", None)
        self.size = getattr(result, "size", None)
        self.request_id = getattr(result, "request_id", None) or self.request_id
        raw = getattr(result, "raw", None)
        self.response = bytes(raw) if raw is not None else None
        error = getattr(result, "error", None)
        if error is not None and not getattr(result, "is_success", True):
            self.error_code, self.error_message = error.code, error.message
        return self

    def batch_answered(self, result: Any, elapsed: float) -> RequestOutcome:
        """A ``BatchResult``: the whole answer's facts, the first command error as the error code."""
        self.result = result
        response = result.response
        first_error = next(iter(result.errors.values()), None)
        self.request_id = result.request_id or self.request_id
        self.status = response.status if response is not None else None
        self.elapsed = response.elapsed if response is not None else elapsed
        self.size = response.size if response is not None else None
        self.response = bytes(response.raw) if response is not None else None
        if first_error is not None:
            self.error_code, self.error_message = first_error.code, first_error.message
        return self

    def listed(self, items: int, requests: int, elapsed: float) -> RequestOutcome:
        """A list-all run: its summary is what the history keeps as the response."""
        self.elapsed = elapsed
        if not self.is_error:
            self.status = 200
        summary = {"items": items, "requests": requests, "cancelled": self.cancelled, "elapsed": round(elapsed, 3)}
        self.response = json.dumps(summary).encode()
        return self

    def failed(self, error: BaseException, elapsed: float) -> RequestOutcome:
        """The client raised ``error`` (an ``SdkError``/``AjaxError``, a cancellation, or anything else)."""
        import asyncio  # loaded by then: only a request that ran can fail

        self.elapsed = elapsed
        if isinstance(error, asyncio.CancelledError):
            self.cancelled = True
            self.error_code = "CANCELLED"
            return self
        original = getattr(error, "original_error", None)
        shown = original if isinstance(original, SdkError) else error
        if isinstance(shown, SdkError):
            self.status = shown.status or None
            self.error_code, self.error_message = shown.code, shown.message
            self.request_id = getattr(shown, "request_id", None) or self.request_id
        else:
            self.error_code, self.error_message = type(error).__name__, str(error)
        return self
