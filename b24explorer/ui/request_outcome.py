"""What the window tells the history (and anyone listening) about each request it sent.

Its own module so the window's start does not build this dataclass: it is first needed when a request goes out.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass
class RequestOutcome:
    """One request as sent and answered (or failed/cancelled). Never holds the webhook."""

    connection: str
    method: str
    api: int
    params: Any
    request_id: str | None
    started_at: float
    elapsed: float = 0.0
    status: int | None = None
    size: int | None = None
    error_code: str = ""
    error_message: str = ""
    cancelled: bool = False
    result: Any = None  # the AjaxResult when there is one
    extra: dict[str, Any] = field(default_factory=dict)
