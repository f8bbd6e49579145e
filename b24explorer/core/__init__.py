"""The Bitrix24 call layer: webhooks, calls, batches, list helpers, limits, log records. Never imports Qt."""

from .client import B24Client
from .errors import AjaxError, SdkError
from .limits import LimitsConfig
from .lists import ListProgress
from .logbus import Level, LogBus, LogRecord
from .result import AjaxResult, BatchResult, BatchRow, ListResult, TimeInfo
from .v3 import MIGRATION_CODE, migration_message
from .webhook import Webhook

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
    "SdkError",
    "TimeInfo",
    "Webhook",
    "migration_message",
]
