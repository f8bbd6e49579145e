"""What every `b24x` command shares: the exit statuses, the one error of bad input, the environment the
command runs in (its streams, injected), and the one shape an error takes on stdout."""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import IntEnum
from typing import Any, TextIO

from ..core.errors import AjaxError, SdkError


class ExitStatus(IntEnum):
    """How a command ended."""

    SUCCESS = 0
    ERROR = 1  # the portal (or the network) answered with an error; the error is on stdout
    BAD_INPUT = 2  # nothing was sent: the input was unusable; the reason is on stderr
    INTERRUPTED = 130  # Ctrl+C


class BadInput(Exception):
    """The user's input is unusable; the message says why and never echoes a secret."""


@dataclass
class Environment:
    """The command's streams and environment variables (tests pass their own)."""

    stdin: TextIO = field(default_factory=lambda: sys.stdin)
    stdout: TextIO = field(default_factory=lambda: sys.stdout)
    stderr: TextIO = field(default_factory=lambda: sys.stderr)
    environ: Mapping[str, str] = field(default_factory=lambda: os.environ)

    def dump(self, value: Any, *, indent: int | None = 2) -> None:
        """A JSON value on stdout."""
        self.stdout.write(json.dumps(value, ensure_ascii=False, indent=indent, default=str))
        self.stdout.write("\n")
        self.stdout.flush()

    def say(self, text: str) -> None:
        """A line for people on stderr."""
        print(text, file=self.stderr, flush=True)


def error_object(error: BaseException) -> dict[str, Any]:
    """The one shape of an error on stdout, for every command: the portal's own error fields
    (``error``, ``error_description``) and what is known of the request."""
    if not isinstance(error, SdkError):
        return {"error": type(error).__name__, "error_description": str(error), "status": None, "method": None,
                "request_id": None}
    shape: dict[str, Any] = {"error": error.code, "error_description": error.message, "status": error.status or None,
                             "method": None, "request_id": None}
    if isinstance(error, AjaxError):
        shape["method"], shape["request_id"] = error.method, error.request_id
        if error.validation:
            shape["validation"] = error.validation
    return shape
