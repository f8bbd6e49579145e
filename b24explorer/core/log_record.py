"""One log entry: what the bus delivers to the log pane, the CLI and the tests."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .logbus import Level


def _now() -> datetime:
    return datetime.now(UTC)


@dataclass(frozen=True)
class LogRecord:
    """One log entry, as the JS SDK's logger records it: level, code, message and what it is about."""

    level: Level
    code: str
    message: str
    method: str | None = None
    request_id: str | None = None
    context: dict[str, Any] = field(default_factory=dict)
    timestamp: datetime = field(default_factory=_now)
    connection: str | None = None  # the name of the connection whose client logged it


    def to_dict(self) -> dict[str, Any]:
        return {
            "timestamp": self.timestamp.isoformat(),
            "level": self.level.name,
            "code": self.code,
            "message": self.message,
            "method": self.method,
            "request_id": self.request_id,
            "context": self.context,
            "connection": self.connection,
        }

    def format_line(self) -> str:
        where = f" {self.method}" if self.method else ""
        rid = f" [{self.request_id}]" if self.request_id else ""
        return (
            f"{self.timestamp:%Y-%m-%d %H:%M:%S} {self.level.name:<9} {self.code}{where}{rid}: {self.message}"
        )
