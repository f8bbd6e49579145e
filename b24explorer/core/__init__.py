"""The Bitrix24 call layer: webhooks, calls, batches, list helpers, limits, log records. Never imports Qt."""

from importlib import import_module
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .client import B24Client
    from .errors import AjaxError, SdkError
    from .limits import LimitsConfig
    from .lists import ListProgress
    from .log_record import LogRecord
    from .logbus import Level, LogBus
    from .oauth import OAuthApp, OAuthCredentials, OAuthSession, TokenSet
    from .result import AjaxResult, BatchResult, BatchRow, ListResult, TimeInfo
    from .v3 import MIGRATION_CODE, migration_message
    from .webhook import Webhook

# Names load on first use (PEP 562), so importing one core module (the window needs the log bus and the
# webhook parser before its first paint) does not pull in httpx through the client.
_WHERE = {
    "B24Client": ".client", "AjaxError": ".errors", "SdkError": ".errors", "LimitsConfig": ".limits",
    "ListProgress": ".lists", "Level": ".logbus", "LogBus": ".logbus", "LogRecord": ".log_record",
    "OAuthApp": ".oauth", "OAuthCredentials": ".oauth", "OAuthSession": ".oauth", "TokenSet": ".oauth",
    "AjaxResult": ".result", "BatchResult": ".result", "BatchRow": ".result", "ListResult": ".result",
    "TimeInfo": ".result", "MIGRATION_CODE": ".v3", "migration_message": ".v3", "Webhook": ".webhook",
}


def __getattr__(name: str) -> Any:
    module = _WHERE.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(import_module(module, __name__), name)
    globals()[name] = value
    return value


__all__ = [
    "MIGRATION_CODE",
    "AjaxError",
    "AjaxResult",
    "B24Client",
    "BatchResult",
    "BatchRow",
    "Level",
    "LimitsConfig",
    "ListProgress",
    "ListResult",
    "LogBus",
    "LogRecord",
    "OAuthApp",
    "OAuthCredentials",
    "OAuthSession",
    "SdkError",
    "TimeInfo",
    "TokenSet",
    "Webhook",
    "migration_message",
]
