"""``b24explorer --self-test``: prove that this build of the app works on this machine, then exit.

Meant for the frozen app (installers run it after building), but it runs the same from source. In order:
the QApplication (offscreen when there is no display), the qasync loop, the main window shown and painted,
the embedded sandbox portal, a REST v2 call, a REST v3 call and a batch through the core client, the keyring
(the backend found; with a usable backend a test entry is saved, read back and deleted; without one the
"this run only" holder is exercised instead), the window closed. It prints a short report and exits 0 only
when every step passed and Qt logged no unexpected warning.

Options (after ``--self-test``):
  --require-keyring      a missing or unusable keyring is a failure (CI runs under a Secret Service)
  --report FILE          also write the report to FILE (a windowed Windows build has no stdout)

``B24X_LAUNCH_T0`` (a ``time.time()`` value set by whoever launched the process) makes the report include
"window painted N ms after launch" — the build script uses it to compare frozen and unfrozen start-up.
"""

from __future__ import annotations

import asyncio
import os
import platform
import secrets
import sys
import threading
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

OVERALL_TIMEOUT = 90.0  # seconds; a hung step must not hang CI
STEP_TIMEOUT = 30.0

# Qt messages that say nothing about the app: the offscreen platform cannot do some window-manager things.
BENIGN_QT_MESSAGES = (
    "This plugin does not support propagateSizeHints()",
    "This plugin does not support raise()",
    "This plugin does not support grabbing the keyboard",
    "This plugin does not support setting window opacity",
)


@dataclass
class Step:
    name: str
    ok: bool
    detail: str


@dataclass
class Report:
    steps: list[Step] = field(default_factory=list)
    qt_messages: list[str] = field(default_factory=list)
    ignored_qt_messages: list[str] = field(default_factory=list)
    loop_errors: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return all(s.ok for s in self.steps) and not self.qt_messages and not self.loop_errors

    def add(self, name: str, ok: bool, detail: str) -> None:
        self.steps.append(Step(name, ok, detail))


def _wants_offscreen() -> bool:
    if os.environ.get("QT_QPA_PLATFORM"):
        return False
    if sys.platform in ("win32", "darwin"):
        return False
    return not (os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY"))


def _frozen() -> bool:
    return bool(getattr(sys, "frozen", False))


def _install_qt_message_handler(report: Report) -> None:
    from PySide6.QtCore import QtMsgType, qInstallMessageHandler

    serious = {QtMsgType.QtWarningMsg, QtMsgType.QtCriticalMsg, QtMsgType.QtFatalMsg}

    def handler(kind: QtMsgType, _context: object, message: str) -> None:
        if kind not in serious:
            return
        text = f"{kind.name}: {message}"
        if any(benign in message for benign in BENIGN_QT_MESSAGES):
            report.ignored_qt_messages.append(text)
        else:
            report.qt_messages.append(text)

    qInstallMessageHandler(handler)


def _start_watchdog(seconds: float) -> None:
    """Last resort against a hang the event loop cannot see (e.g. a blocked C call): exit hard."""

    def fire() -> None:
        if sys.stderr is not None:  # None in a windowed Windows build
            sys.stderr.write(f"self-test: no result after {seconds:g} s, giving up\n")
            sys.stderr.flush()
        os._exit(3)

    timer = threading.Timer(seconds, fire)
    timer.daemon = True
    timer.start()


async def _step(report: Report, name: str, action: Callable[[], Awaitable[str]]) -> bool:
    started = time.perf_counter()
    try:
        detail = await asyncio.wait_for(action(), STEP_TIMEOUT)
    except Exception as exc:
        report.add(name, False, f"{type(exc).__name__}: {exc}")
        return False
    report.add(name, True, f"{detail} ({(time.perf_counter() - started) * 1000:.0f} ms)")
    return True


class _Checks:
    """The steps, sharing the sandbox, the client and the window between them."""

    def __init__(self, report: Report, require_keyring: bool) -> None:
        self.report = report
        self.require_keyring = require_keyring
        self.context: Any = None  # b24explorer.app.AppContext: workspace, window, sandbox
        self.client: Any = None  # a B24Client, imported lazily with the rest of the app
        self.window: Any = None
        self.webhook_url = ""

    async def window_shown(self) -> str:
        from PySide6.QtCore import QEvent, QObject

        from b24explorer.app import build

        painted = asyncio.get_running_loop().create_future()

        class PaintWatch(QObject):
            def eventFilter(self, obj: QObject, event: QEvent) -> bool:  # Qt override
                if event.type() == QEvent.Type.Paint and not painted.done():
                    painted.set_result(time.time())
                return False

        self.context = build()
        self.window = self.context.window
        watch = PaintWatch(self.window)
        self.window.installEventFilter(watch)
        self.window.show()
        painted_at = await painted
        self.window.removeEventFilter(watch)
        from PySide6.QtWidgets import QApplication

        if QApplication.windowIcon().pixmap(32, 32).isNull():  # found, and the SVG icon engine can draw it
            raise RuntimeError("the app icon cannot be shown: resources/ or the SVG icon plugin is missing")
        detail = f"{type(self.window).__name__} shown and painted, app icon loaded"
        launch = os.environ.get("B24X_LAUNCH_T0")
        if launch:
            detail += f"; window painted {(painted_at - float(launch)) * 1000:.0f} ms after launch"
        return detail

    async def sandbox_started(self) -> str:
        """The app's own demo mode: the embedded portal plus its in-memory "Sandbox" connection."""
        from b24explorer.app import SANDBOX_CONNECTION, start_sandbox
        from b24explorer.core import Webhook

        if self.context is None:
            raise RuntimeError("the window step failed, so there is no app to start the sandbox in")
        await start_sandbox(self.context, plan="unlimited")
        self.webhook_url = self.context.sandbox.webhook_url
        names = self.context.workspace.connections.names()
        if SANDBOX_CONNECTION not in names:
            raise RuntimeError(f"no {SANDBOX_CONNECTION!r} connection after starting the sandbox: {names}")
        return f"portal at {Webhook.parse(self.webhook_url).masked}, connection {SANDBOX_CONNECTION!r} added"

    async def _client(self) -> Any:  # B24Client, imported lazily with the rest of the app
        if self.client is None:
            from b24explorer.core import B24Client, Webhook

            self.client = B24Client(Webhook.parse(self.webhook_url), timeout=10.0)
        return self.client

    async def call_v2(self) -> str:
        client = await self._client()
        result = await client.call("crm.deal.list", {"select": ["ID", "TITLE"], "order": {"ID": "ASC"}}, api=2)
        if not result.is_success:
            raise RuntimeError(f"crm.deal.list failed: {result.error_messages}")
        if len(result.result) != 50 or result.total < 50:
            raise RuntimeError(f"crm.deal.list: expected a page of 50 deals, got {len(result.result)} of {result.total}")
        return f"crm.deal.list -> {len(result.result)} of {result.total} deals, HTTP {result.status}"

    async def call_v3(self) -> str:
        client = await self._client()
        result = await client.call("tasks.task.list", {"select": ["id", "title"]}, api=3)
        if not result.is_success:
            raise RuntimeError(f"tasks.task.list over v3 failed: {result.error_messages}")
        items = result.result.get("items") if isinstance(result.result, dict) else None
        if result.api != 3 or not items or not {"id", "title"} <= set(items[0]):
            raise RuntimeError(f"tasks.task.list over v3: unexpected answer {str(result.result)[:200]}")
        return f"tasks.task.list (REST v3) -> {len(items)} tasks, HTTP {result.status}"

    async def batch(self) -> str:
        client = await self._client()
        result = await client.batch(
            {
                "first": ["crm.deal.list", {"select": ["ID"], "order": {"ID": "ASC"}}],
                "deal": ["crm.deal.get", {"id": "$result[first][0][ID]"}],
                "me": ["profile", {}],
            },
            halt=True,
            api=2,
        )
        if not result.is_success:
            raise RuntimeError(f"batch failed: {result.error_messages}")
        first_id = result["first"].result[0]["ID"]
        deal = result["deal"].result
        if str(deal.get("ID")) != str(first_id):
            raise RuntimeError(f"$result[first][0][ID] is {first_id!r} but crm.deal.get returned {deal.get('ID')!r}")
        return f"3 commands, $result[first][0][ID] -> deal {first_id}, {len(result.rows)} rows"

    async def _this_run_only(self, cause: str) -> str:
        """No usable keyring: the app falls back to holding webhooks in memory. Prove that holder works."""
        from b24explorer.core import vault

        store = vault.Vault()
        reference = vault.new_reference()
        store.keep_for_this_run(reference, self.webhook_url)
        if await store.read(reference) != self.webhook_url:
            raise RuntimeError("the this-run-only holder did not give the webhook back")
        await store.delete(reference)
        line = (
            f"{cause}; webhooks can be used for this run only (not saved) — "
            "checked: held in memory, read back, forgotten"
        )
        if self.require_keyring:
            raise RuntimeError(line)
        return line

    async def keyring(self) -> str:
        from b24explorer.core import vault

        description = await vault.abackend_description()
        if not await asyncio.to_thread(vault.has_backend):
            return await self._this_run_only(f"no keyring: {description}")
        reference = f"selftest-{secrets.token_hex(6)}"
        try:
            await vault.asave_webhook(reference, self.webhook_url)
        except vault.VaultError as exc:
            if exc.kind in ("locked", "prompt_dismissed", "timeout", "no_backend"):
                # A keyring exists but cannot be used now (locked, no prompt possible): the app's answer is
                # the same as without one, so it is not a failure of this installation.
                return await self._this_run_only(f"keyring unusable ({exc.kind}): {description}: {exc.message.rstrip('.')}")
            raise
        try:
            if await vault.aread_webhook(reference) != self.webhook_url:
                raise RuntimeError("the keyring returned a different value than was saved")
        finally:
            await vault.adelete_webhook(reference, missing_ok=False)
        try:
            await vault.aread_webhook(reference)
        except vault.EntryMissingError:
            pass
        else:
            raise RuntimeError("the test entry is still in the keyring after deleting it")
        kind = "Secret Service" if "SecretService" in description else "backend"
        return f"{kind} {description}: saved, read and deleted a test entry"

    async def no_secret_on_disk(self) -> str:
        from b24explorer.core import paths

        if not self.webhook_url:
            raise RuntimeError("no sandbox webhook to look for")
        secret = self.webhook_url.rstrip("/").rsplit("/", 1)[-1].encode()
        scanned = 0
        for directory in paths.all_app_dirs(create=False):
            if not directory.is_dir():
                continue
            for path in directory.rglob("*"):
                if path.is_file():
                    scanned += 1
                    if secret in path.read_bytes():
                        raise RuntimeError(f"the webhook secret was written to {path}")
        return f"{scanned} file(s) in the app's directories, no webhook secret"

    async def window_closed(self) -> str:
        if self.window is None:
            raise RuntimeError("no window to close")
        self.window.close()
        await asyncio.sleep(0)
        if self.window.isVisible():
            raise RuntimeError("the main window is still visible after close()")
        return "closed"

    async def shutdown(self) -> None:
        client, context = self.client, self.context
        self.client = self.context = None
        if client is not None:
            await client.aclose()
        if context is not None:
            await context.aclose()


async def _run_checks(report: Report, require_keyring: bool) -> None:
    checks = _Checks(report, require_keyring)
    try:
        await _step(report, "window", checks.window_shown)
        if await _step(report, "sandbox", checks.sandbox_started):
            await _step(report, "call v2", checks.call_v2)
            await _step(report, "call v3", checks.call_v3)
            await _step(report, "batch", checks.batch)
            await _step(report, "keyring", checks.keyring)
        if checks.window is not None:
            await _step(report, "close", checks.window_closed)
        await checks.shutdown()  # settings and history are flushed here: scan after it
        await _step(report, "secrets", checks.no_secret_on_disk)
    finally:
        await checks.shutdown()


def _header() -> str:
    from PySide6 import __version__ as pyside_version
    from PySide6.QtGui import QGuiApplication

    from b24explorer import __version__

    return (
        f"b24explorer {__version__} self-test — {'frozen' if _frozen() else 'from source'}, "
        f"Python {platform.python_version()}, PySide6 {pyside_version}, "
        f"Qt platform {QGuiApplication.platformName()}, {platform.system()} {platform.machine()}"
    )


def _format(report: Report, header: str, seconds: float) -> str:
    lines = [header]
    for step in report.steps:
        lines.append(f"  {'ok  ' if step.ok else 'FAIL'}  {step.name:<8} {step.detail}")
    for message in report.ignored_qt_messages:
        lines.append(f"  note  qt       ignored (platform limitation): {message}")
    if report.qt_messages:
        lines += [f"  FAIL  qt       unexpected message: {m}" for m in report.qt_messages]
    else:
        lines.append("  ok    qt       no unexpected Qt warnings")
    lines += [f"  FAIL  asyncio  {e}" for e in report.loop_errors]
    lines.append(f"self-test {'passed' if report.ok else 'FAILED'} in {seconds:.2f} s")
    return "\n".join(lines) + "\n"


def _option(argv: list[str], name: str) -> str | None:
    for i, arg in enumerate(argv):
        if arg == name and i + 1 < len(argv):
            return argv[i + 1]
        if arg.startswith(name + "="):
            return arg.split("=", 1)[1]
    return None


def run(argv: list[str] | None = None) -> int:
    """Run the self-test; returns the process exit code (0 = every check passed)."""
    argv = list(sys.argv[1:] if argv is None else argv)
    started = time.perf_counter()
    _start_watchdog(OVERALL_TIMEOUT + 30)
    os.environ.setdefault("QT_API", "pyside6")
    if _wants_offscreen():
        os.environ["QT_QPA_PLATFORM"] = "offscreen"

    report = Report()
    _install_qt_message_handler(report)

    import PySide6  # noqa: F401  (qasync must see PySide6 first)
    import qasync
    from PySide6.QtWidgets import QApplication

    try:  # the app's own setup: name, style, and the window icon found among the bundled resources
        from b24explorer.app import create_qapplication

        app = create_qapplication([])
    except Exception as exc:
        report.add("app", False, f"create_qapplication: {type(exc).__name__}: {exc}")
        app = QApplication.instance() or QApplication([sys.argv[0] if sys.argv else "b24explorer"])
    app.setQuitOnLastWindowClosed(False)
    header = _header()
    loop = qasync.QEventLoop(app)
    asyncio.set_event_loop(loop)
    loop.set_exception_handler(lambda _loop, ctx: report.loop_errors.append(str(ctx.get("message"))))
    try:
        loop.run_until_complete(
            asyncio.wait_for(_run_checks(report, "--require-keyring" in argv), OVERALL_TIMEOUT)
        )
    except Exception as exc:
        report.add("run", False, f"{type(exc).__name__}: {exc}")
    finally:
        loop.close()
        asyncio.set_event_loop(None)

    text = _format(report, header, time.perf_counter() - started)
    if sys.stdout is not None:
        sys.stdout.write(text)
        sys.stdout.flush()
    target = _option(argv, "--report")
    if target:
        with open(target, "w", encoding="utf-8") as handle:
            handle.write(text)
    return 0 if report.ok else 1
