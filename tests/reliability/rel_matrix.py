"""The fault matrix shared by the core, window and CLI tests: each sandbox fault, what it should end in.

A case names how the fault is produced (a sandbox fault armed on the method the mode sends over HTTP, or the
portal's own behaviour for 401/403), the outcome the retry rules allow (`OK` — a successful retry — or the
error code the user must see) and how many HTTP requests that takes (attempts, retries included).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

OK = "OK"
MODES = ("call", "batch", "list", "call_v3")
SHORT_TIMEOUT = 0.4  # the client's timeout in the "delay past the timeout" case
DELAY = 0.9  # the sandbox's delay in that case (well past the timeout)
NORMAL_TIMEOUT = 20.0


@dataclass(frozen=True)
class FaultCase:
    name: str
    fault: dict[str, Any] | None  # kwargs of sandbox.faults.add (method is set per mode); None: see `hook`
    outcome: str
    requests: int  # HTTP requests the mode's method receives
    hook: str = "main"  # "main" | "wrong_secret" | "crm_less": which webhook the client uses
    timeout: float = NORMAL_TIMEOUT
    notes: str = ""
    per_mode_outcome: dict[str, str] = field(default_factory=dict)

    def outcome_for(self, mode: str) -> str:
        return self.per_mode_outcome.get(mode, self.outcome)


CASES: list[FaultCase] = [
    FaultCase("503_burst", dict(kind="status", status=503, code="QUERY_LIMIT_EXCEEDED", count=2), OK, 3,
              notes="two 503s, the third attempt succeeds (rate-limit rule)"),
    FaultCase("503_storm", dict(kind="status", status=503, code="QUERY_LIMIT_EXCEEDED", count=20),
              "QUERY_LIMIT_EXCEEDED", 3, notes="more 503s than attempts: a readable error, not a hang"),
    FaultCase("429_operating", dict(kind="status", status=429, code="OPERATION_TIME_LIMIT", count=1), OK, 2,
              notes="operating limit: wait (fake clock), retry once"),
    FaultCase("500", dict(kind="status", status=500, code="INTERNAL_SERVER_ERROR", count=1),
              "INTERNAL_SERVER_ERROR", 1, notes="hard code: raised at once"),
    FaultCase("502_html", dict(kind="html", status=502, count=20), "ERR_BAD_RESPONSE", 3,
              notes="nginx page, not JSON: backoff retries, then a readable error with an excerpt"),
    FaultCase("truncated", dict(kind="truncated", count=1), "ERROR_UNEXPECTED_ANSWER", 1,
              notes="a 200 whose JSON is cut in half"),
    FaultCase("reset_before", dict(kind="reset_before", count=1), OK, 2,
              notes="dropped before the handler: a read is retried"),
    FaultCase("reset_after", dict(kind="reset_after", count=1), OK, 2,
              notes="dropped after the handler: a read is retried"),
    FaultCase("delay_timeout", dict(kind="delay", seconds=DELAY, count=1), OK, 2, timeout=SHORT_TIMEOUT,
              notes="answer later than the client's timeout: a read is retried"),
    FaultCase("redirect_302", dict(kind="redirect", count=1), "PORTAL_REDIRECT", 1,
              notes="302 to another host: never followed, never re-sent"),
    FaultCase("error_in_200", dict(kind="error_in_200", code="ERROR_CORE", description="Core error", count=1),
              "ERROR_CORE", 1, notes="an error envelope with HTTP 200"),
    FaultCase("401_wrong_secret", None, "INVALID_CREDENTIALS", 1, hook="wrong_secret",
              notes="the portal's own answer to a wrong secret"),
    FaultCase("403_scope", None, "insufficient_scope", 1, hook="crm_less",
              notes="the portal's own answer to a webhook without the crm scope",
              per_mode_outcome={"call_v3": "BITRIX_REST_V3_EXCEPTION_INSUFFICIENTSCOPEEXCEPTION"}),
]
CASE_IDS = [c.name for c in CASES]

# What each mode sends, and the HTTP-level method a fault must be armed on.
CALL_METHOD, CALL_PARAMS = "crm.deal.get", {"id": 7}
BATCH_COMMANDS: dict[str, Any] = {
    "one": ["crm.deal.get", {"id": 7}],
    "page": ["crm.deal.list", {"select": ["ID", "TITLE"], "order": {"ID": "ASC"}}],
    "ref": ["crm.deal.get", {"id": "$result[page][1][ID]"}],
}
LIST_METHOD, LIST_PARAMS = "crm.deal.list", {"select": ["ID", "TITLE"]}
V3_METHOD, V3_PARAMS = "tasks.task.get", {"id": 1}  # the core's matrix also runs a REST v3 call


def http_method(mode: str) -> str:
    """The method name the sandbox sees for a mode's first request (list-all's is one plain page)."""
    return {"call": CALL_METHOD, "call_v3": V3_METHOD, "list": LIST_METHOD}.get(mode, "batch")


def arm(sandbox: Any, case: FaultCase, mode: str) -> None:
    if case.fault is not None:
        sandbox.faults.add(method=http_method(mode), **case.fault)


def webhook_for(sandbox: Any, case: FaultCase) -> str:
    if case.hook == "wrong_secret":
        return sandbox.webhook_url.replace(sandbox.secret, "x" * len(sandbox.secret))
    if case.hook == "crm_less":
        return sandbox.add_webhook(user_id=1, scopes=["user", "department"])
    return sandbox.webhook_url


def assert_readable(text: str, secret: str) -> None:
    """A message a person can act on: not empty, no traceback, no secret, no Python object reprs."""
    assert text.strip(), "empty error message"
    assert secret not in text, f"secret leaked into {text!r}"
    for junk in ("Traceback", "<object at", " object at 0x"):
        assert junk not in text, text
