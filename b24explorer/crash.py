"""Crash reports: an exception nobody handled is written, masked, to the log directory — never shown raw.

`install(secrets=..., on_report=...)` hooks `sys.excepthook` (exceptions in Qt slots arrive there),
`threading.excepthook` and, through `asyncio_handler`, the event loop's exception handler ("Task exception was
never retrieved"). Each unhandled exception becomes `crash-<time>-<pid>.txt` under `paths.log_dir()` with every
webhook path, known secret and credential pair masked (`core.redact`), and `on_report(path, summary)` lets the
window say so. The app keeps running. Qt-free: the caller decides how to tell the user.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import os
import platform
import sys
import threading
import time
import traceback
from collections.abc import Callable, Iterable
from pathlib import Path
from types import TracebackType
from typing import Any

from . import __version__
from .core.paths import log_dir
from .core.redact import redact_text

_SEQUENCE = itertools.count(1)

SecretsProvider = Callable[[], Iterable[str]]
OnReport = Callable[[Path, str], None]


def report_text(exc: BaseException, *, where: str, secrets: Iterable[str] = ()) -> str:
    """The report's text: what happened, where, on what; the traceback with every secret masked."""
    trace = "".join(traceback.format_exception(type(exc), exc, exc.__traceback__))
    head = [
        f"b24explorer {__version__} — unhandled {type(exc).__name__} ({where})",
        f"time: {time.strftime('%Y-%m-%d %H:%M:%S %z')}",
        f"python: {sys.version.split()[0]} on {platform.platform()}",
        "",
    ]
    return redact_text("\n".join(head) + trace, tuple(s for s in secrets if s))


def write_report(exc: BaseException, *, where: str, secrets: Iterable[str] = ()) -> Path:
    """Writes one crash report (atomically) and returns its path."""
    folder = log_dir()
    stamp = time.strftime("%Y%m%d-%H%M%S")
    path = folder / f"crash-{stamp}-{os.getpid()}-{next(_SEQUENCE):03d}.txt"
    temporary = path.with_suffix(".tmp")
    temporary.write_text(report_text(exc, where=where, secrets=secrets), encoding="utf-8")
    os.replace(temporary, path)
    return path


class CrashHandler:
    def __init__(self, secrets: SecretsProvider, on_report: OnReport | None = None) -> None:
        self.secrets = secrets
        self.on_report = on_report
        self.reports: list[Path] = []
        self._previous: tuple[Any, Any] = (sys.excepthook, threading.excepthook)

    def handle(self, exc: BaseException, where: str) -> Path | None:
        try:
            secrets = tuple(self.secrets())
        except Exception:  # a broken provider must not stop the report; the webhook-path mask still applies
            secrets = ()
        try:
            path = write_report(exc, where=where, secrets=secrets)
        except OSError as err:
            print(f"b24explorer: could not write a crash report ({err.strerror or err})", file=sys.stderr)
            return None
        self.reports.append(path)
        summary = redact_text(f"{type(exc).__name__}: {exc}", secrets)
        print(f"b24explorer: unexpected {summary} — report saved to {path}", file=sys.stderr)
        if self.on_report is not None:
            with contextlib.suppress(Exception):  # telling the user failed; the report is written, which matters
                self.on_report(path, summary)
        return path

    def excepthook(self, kind: type[BaseException], exc: BaseException, tb: TracebackType | None) -> None:
        if issubclass(kind, KeyboardInterrupt):
            self._previous[0](kind, exc, tb)
            return
        if exc.__traceback__ is None:
            exc = exc.with_traceback(tb)
        self.handle(exc, "main thread")

    def threading_hook(self, args: threading.ExceptHookArgs) -> None:
        if args.exc_value is None or isinstance(args.exc_value, SystemExit):
            return
        name = args.thread.name if args.thread is not None else "?"
        self.handle(args.exc_value, f"thread {name}")

    def asyncio_handler(self, loop: asyncio.AbstractEventLoop, context: dict[str, Any]) -> None:
        exc = context.get("exception")
        if not isinstance(exc, BaseException) or isinstance(exc, asyncio.CancelledError):
            loop.default_exception_handler(context)
            return
        self.handle(exc, f"asyncio: {context.get('message', 'unhandled')}")

    def uninstall(self) -> None:
        if sys.excepthook == self.excepthook:
            sys.excepthook = self._previous[0]
        if threading.excepthook == self.threading_hook:
            threading.excepthook = self._previous[1]


def install(secrets: SecretsProvider, on_report: OnReport | None = None,
            loop: asyncio.AbstractEventLoop | None = None) -> CrashHandler:
    """Hooks the handler in (and into `loop`, when given); `handler.uninstall()` undoes the global hooks."""
    handler = CrashHandler(secrets, on_report)
    sys.excepthook = handler.excepthook
    threading.excepthook = handler.threading_hook
    if loop is not None:
        loop.set_exception_handler(handler.asyncio_handler)
    return handler
