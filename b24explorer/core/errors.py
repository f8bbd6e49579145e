"""SdkError and AjaxError: errors as values a user can read (code, description, status, method, request id).

Neither ever carries the webhook URL: request info holds the method, redacted params and the request id only.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from .redact import mask_secrets, redact

if TYPE_CHECKING:
    from datetime import datetime

# Where a network failure happened, for the non-idempotent rule: before the request left (safe to resend)
# or after it was sent (the server may have run it).
KIND_HTTP = "http"
KIND_TIMEOUT = "timeout"
KIND_NETWORK_BEFORE_SEND = "network_before_send"
KIND_NETWORK_AFTER_SEND = "network_after_send"


class SdkError(Exception):
    """An error of the client itself (bad input, misuse), or the base of an API error."""

    def __init__(
        self,
        code: str,
        description: str | None = None,
        status: int = 500,
        *,
        original_error: BaseException | None = None,
    ) -> None:
        self.code = str(code)
        self.description = description or ""
        self.status = int(status)
        from datetime import UTC, datetime  # here: the start imports this module before any error exists

        self.timestamp: datetime = datetime.now(UTC)
        self.original_error = original_error
        super().__init__(self.message)

    @property
    def message(self) -> str:
        return self.description or "Internal error"

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": type(self).__name__,
            "code": self.code,
            "message": self.message,
            "status": self.status,
            "timestamp": self.timestamp.isoformat(),
        }

    def __str__(self) -> str:
        return f"[{type(self).__name__}] {self.code} ({self.status}): {self.message}"

    def __repr__(self) -> str:
        return f"{type(self).__name__}(code={self.code!r}, status={self.status}, message={self.message!r})"


class AjaxError(SdkError):
    """An error answer of the portal (or of the transport) for one request."""

    def __init__(
        self,
        code: str,
        description: str | None = None,
        status: int = 0,
        *,
        method: str | None = None,
        params: Any = None,
        request_id: str | None = None,
        kind: str = KIND_HTTP,
        validation: list[dict[str, Any]] | None = None,
        original_error: BaseException | None = None,
        secrets: tuple[str, ...] = (),
    ) -> None:
        if code in ("AUTHORIZE_ERROR", "WRONG_AUTH_TYPE"):
            status = 403
        self.method = method
        self.request_id = request_id
        self.kind = kind
        self.validation = list(validation or [])
        self.attempts = 1
        self.retry_reason = ""
        if description:
            description = mask_secrets(description, secrets)  # a server may echo the URL it was called on
        self.request_info: dict[str, Any] = {
            "method": method,
            "params": redact(params, secrets=secrets) if params is not None else None,
            "request_id": request_id,
        }
        super().__init__(code, description, status, original_error=original_error)

    @property
    def message(self) -> str:
        if self.description:
            return self.description
        if self.method:
            return f"{self.code} (on {self.method})"
        return "Internal ajax error"

    def to_dict(self) -> dict[str, Any]:
        data = super().to_dict()
        data["request_info"] = self.request_info
        if self.validation:
            data["validation"] = self.validation
        return data

    def __str__(self) -> str:
        text = super().__str__()
        if self.method and self.request_id:
            text += f"\nRequest: [{self.request_id}] {self.method}"
        return text


def ensure_json_params(params: Any, key: str | int, method: str) -> None:
    """Raise JSSDK_INVALID_PARAMS when a batch command's params cannot be sent as JSON (NaN, sets, objects)."""
    import json

    try:
        json.dumps(params, allow_nan=False)
    except (TypeError, ValueError) as exc:
        raise AjaxError(
            "JSSDK_INVALID_PARAMS",
            f"Params of batch command {key!r} are not JSON-serialisable: {exc}",
            400,
            method=method,
        ) from None
