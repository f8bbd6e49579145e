"""The "Test connection" check: ``server.time``, ``profile`` and ``scope`` through a short-lived client."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .logbus import LogBus
    from .oauth import OAuthSession
    from .webhook import Webhook


@dataclass
class ConnectionReport:
    """What "Test connection" found out: who the webhook acts as, and what it may do."""

    server_time: str = ""
    user: dict[str, Any] = field(default_factory=dict)
    scopes: list[str] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)  # the webhook does not work
    notes: list[str] = field(default_factory=list)  # it works, with these limits

    @property
    def ok(self) -> bool:
        return not self.problems


async def check_connection(webhook: Webhook | OAuthSession, log: LogBus, options: dict[str, Any]) -> ConnectionReport:
    """Only ``server.time`` decides whether the connection works; a refused ``profile`` or ``scope`` (a webhook
    without those permissions still calls its methods) and a user who is not an administrator are notes.
    ``options``: keyword arguments for the client (timeouts, transport, CA file)."""
    from .client import B24Client
    from .errors import SdkError

    report = ConnectionReport()
    async with B24Client(webhook, log=log, **options) as client:
        for method in ("server.time", "profile", "scope"):
            try:
                res = await client.call(method, {})
                failure = "" if res.is_success else "; ".join(res.error_messages)
            except SdkError as exc:
                res, failure = None, f"{exc.code} — {exc.message}"
            if failure or res is None:
                if method == "server.time":
                    report.problems.append(f"{method}: {failure}")
                    break
                what = "who it acts as" if method == "profile" else "its permissions (scopes)"
                report.notes.append(f"Works, but it may not read {what}: {method} answered {failure}")
                continue
            if method == "server.time":
                report.server_time = str(res.result)
            elif method == "profile":
                report.user = dict(res.result or {})
                if report.user and not report.user.get("ADMIN"):
                    report.notes.append("Its user is not an administrator: methods for administrators only "
                                        "(e.g. event.bind of offline events) answer ACCESS_DENIED.")
            else:
                report.scopes = [str(s) for s in res.result or []]
    return report
