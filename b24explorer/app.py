"""The composition root: QApplication, the qasync loop, core services, the main window.

Start-up order (issue 7): the window is built and painted first, with nothing but Qt and the modules it shows;
asyncio, the qasync loop, the HTTP client, the keyring and the sandbox load after the first paint.

``b24explorer [--sandbox] [--screenshot PATH]`` opens the window; ``--sandbox`` also starts the embedded
sandbox portal in the background and adds an in-memory "Sandbox" connection. ``--self-test`` hands over to
:mod:`b24explorer.selftest`.
"""

from __future__ import annotations

# isort: off
from b24explorer.ui import feature_check  # noqa: F401  (first: PySide's check of the imports below, made quick)
# isort: on

import argparse
import contextlib
import os
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import asyncio

    from b24explorer.core.state import WorkspaceState
    from b24explorer.core.vault import Vault
    from b24explorer.core.workspace import Workspace
    from b24explorer.sandbox import Sandbox
    from b24explorer.ui.connection_flow import ConnectionFlow
    from b24explorer.ui.main_window import MainWindow
    from b24explorer.ui.power import PowerFeatures
    from b24explorer.ui.response_view import ResponseView

SANDBOX_CONNECTION = "Sandbox"


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="b24explorer", description="A desktop explorer for the Bitrix24 REST API.")
    parser.add_argument("--sandbox", action="store_true",
                        help="start the built-in sandbox portal and connect to it (nothing is saved)")
    parser.add_argument("--sandbox-plan", default="standard", choices=("standard", "enterprise", "unlimited"),
                        help=argparse.SUPPRESS)
    parser.add_argument("--self-test", action="store_true",
                        help="check that this installation works (window, sandbox calls, keyring), then exit")
    # Hidden: grab the window once the first response is shown, save it as PNG and quit (docs and e2e tests).
    parser.add_argument("--screenshot", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--screenshot-method", default="crm.deal.list", help=argparse.SUPPRESS)
    args, _qt_args = parser.parse_known_args(list(argv) if argv is not None else sys.argv[1:])
    return args


def create_qapplication(argv: Sequence[str] | None = None, *, icon: bool = True) -> Any:
    """The QApplication (one per process), styled to follow the system's light/dark scheme.

    ``icon=False``: the caller sets the window icon later (:func:`set_window_icon`; the app does once the window has
    painted — reading the SVG loads Qt's SVG plugin, and a window shown without an icon takes it when it comes)."""
    from b24explorer import __version__
    from b24explorer.ui.qt import QApplication, follow_system_scheme

    existing = QApplication.instance()
    app = existing if isinstance(existing, QApplication) else QApplication([sys.argv[0], *(argv or [])])
    app.setApplicationName("b24explorer")
    app.setOrganizationName("b24explorer")
    app.setApplicationVersion(__version__)
    app.setDesktopFileName("b24explorer")
    if icon:
        set_window_icon(app)
    # The generic "Windows" style of bare X11/offscreen sessions looks dated; Fusion follows the colour scheme.
    if app.style().name().lower() in ("windows", ""):
        app.setStyle("Fusion")
    follow_system_scheme(app)
    hints = app.styleHints()
    if hints is not None:
        hints.colorSchemeChanged.connect(lambda _scheme: follow_system_scheme(app))
    return app


def _app_icon_path() -> Path | None:
    from b24explorer.core.resource_files import resource_path

    return resource_path("b24explorer.svg")


def set_window_icon(app: Any) -> None:
    """The application's icon on every window (those already shown take it too)."""
    from b24explorer.ui.qt import QIcon

    icon = _app_icon_path()
    if icon is not None:
        app.setWindowIcon(QIcon(str(icon)))


class AppContext:
    """Everything the composition root built; the self-test and the tests reuse it."""

    def __init__(self, workspace: Workspace, window: MainWindow, flow: ConnectionFlow) -> None:
        self.workspace = workspace
        self.window = window
        self.flow = flow
        self.power: PowerFeatures | None = None  # batch, list-all, history, copy as code (after the first paint)
        self.sandbox: Sandbox | None = None
        self.tasks: list[asyncio.Task[Any]] = []

    def install_power(self) -> PowerFeatures:
        """Batch and list-all modes, history dock, copy as code (ui/power.py); once."""
        if self.power is None:
            self.power = install_power(self.window, self.workspace)
        return self.power

    async def aclose(self) -> None:
        import asyncio

        for task in self.tasks:
            task.cancel()
        with contextlib.suppress(RuntimeError):  # the window may already be deleted
            await self.window.settle()
        if self.power is not None:
            await self.power.aclose()
        await self.workspace.aclose()
        if self.sandbox is not None:
            await asyncio.get_running_loop().run_in_executor(None, self.sandbox.stop)
            self.sandbox = None


def build(*, settings: WorkspaceState | None = None, vault: Vault | None = None,
          client_options: dict[str, Any] | None = None, defer_power: bool = False,
          loop_running: bool = True) -> AppContext:
    """Core services + main window, not shown yet. Needs a running QApplication.

    ``defer_power``: leave the power features out; the caller installs them with :func:`install_power`
    once the window has painted (the app does, so the window shows sooner).
    ``loop_running=False``: built before any asyncio loop exists; the window keeps its loop work (the method
    list load, a send) until ``window.loop_started()``.
    """
    from b24explorer.core.logbus import LogBus
    from b24explorer.core.state import FileState, MemoryState
    from b24explorer.core.workspace import Workspace
    from b24explorer.ui.connection_flow import ConnectionFlow
    from b24explorer.ui.main_window import MainWindow

    bus = LogBus()
    if settings is None:
        try:
            settings = FileState()
        except Exception as exc:  # an unusable config dir must not keep the window from opening
            bus.error("SETTINGS_UNAVAILABLE", f"Settings cannot be used ({type(exc).__name__}); "
                                              "changes of this run are kept in memory only.")
            settings = MemoryState()
    workspace = Workspace(state=settings, vault=vault, log_bus=bus, client_options=client_options)
    window = MainWindow(workspace, loop_running=loop_running)
    flow = ConnectionFlow(window, workspace)
    ctx = AppContext(workspace=workspace, window=window, flow=flow)
    if not defer_power:
        ctx.install_power()
    window.connections_action.triggered.connect(lambda: _spawn(flow.manage()))
    window.connect_app_action.triggered.connect(lambda: _spawn(flow.connect_app()))
    window.connection_picker.manage_requested.connect(lambda: _spawn(flow.manage()))
    window.edit_connection_requested.connect(lambda key: _spawn(flow.edit_by_key(key)))
    for notice in settings.notices:
        bus.notice("SETTINGS_NOTICE", notice)
    window.restore_ui_state(settings.load_ui_state())
    return ctx


def _spawn(coro: Any) -> Any:
    import asyncio

    return asyncio.ensure_future(coro)


def install_power(window: MainWindow, workspace: Workspace) -> PowerFeatures:
    """Batch and list-all modes, history dock, copy as code (ui/power.py); the caller keeps what it returns."""
    from b24explorer.ui import power

    features = power.install(window, workspace)
    saved = workspace.state.load_ui_state().get("window_state")
    if isinstance(saved, str) and saved:  # the saved layout again, now that the history dock exists
        from b24explorer.ui.qt import QByteArray

        window.restoreState(QByteArray.fromBase64(saved.encode()))
    return features


# --- start-up order (issue 7): the window paints first, everything not visible in it comes after ---------
class _FirstPaint:
    """Resolves ``done`` when ``window`` first paints (``MainWindow.first_painted``; see ``qt.show_until_painted``)."""

    def __init__(self, _app: Any, window: MainWindow) -> None:
        import asyncio

        self.done: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._window = window
        window.first_painted.connect(self._painted)

    def _painted(self) -> None:
        if not self.done.done():
            self.done.set_result(None)  # the coroutine resumes after this paint is finished

    def close(self) -> None:
        """Stop watching (when no paint came in time)."""
        with contextlib.suppress(RuntimeError):  # the window is already gone
            self._window.first_painted.disconnect(self._painted)


async def start_sandbox(ctx: AppContext, plan: str = "standard") -> None:
    """Start the embedded sandbox off the UI thread and add the in-memory "Sandbox" connection."""
    import asyncio

    from b24explorer.core.webhook import Webhook
    from b24explorer.sandbox import Sandbox

    bus = ctx.workspace.log_bus
    bus.info("SANDBOX_STARTING", "Starting the local sandbox portal…")
    ctx.window.statusBar().showMessage("Starting the local sandbox portal (seeding its deals)…")
    loop = asyncio.get_running_loop()
    try:
        sandbox = await loop.run_in_executor(None, lambda: Sandbox(seed=1, plan=plan).start())
    except Exception as exc:  # e.g. no free port: say so, the window stays usable with saved connections
        bus.error("SANDBOX_FAILED", f"The local sandbox could not start: {type(exc).__name__}: {exc}")
        ctx.window.statusBar().showMessage("The local sandbox could not start — see the log.", 10000)
        ctx.window.await_connection(None)
        return
    ctx.window.statusBar().clearMessage()
    ctx.sandbox = sandbox
    webhook = Webhook.parse(sandbox.webhook_url)
    ctx.workspace.connections.add_sandbox(SANDBOX_CONNECTION, webhook, limits=plan)  # the window selects it
    bus.info("SANDBOX_READY", f"Sandbox portal ready at {webhook.masked} (plan {plan}); nothing is saved.")


async def _take_screenshot(ctx: AppContext, path: Path, method: str) -> None:
    """Send one request, wait until its answer is shown and painted, save the window as PNG."""
    import asyncio

    window = ctx.window
    shown: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
    def show(value: Any) -> None:
        if not shown.done():
            shown.set_result(value)

    window.response_shown.connect(show)
    if window.connection is None:
        raise RuntimeError("no connection to send the screenshot request through")
    if method == "crm.deal.list":
        # A v2 call of a method REST v3 also offers first, so the log shows the highlighted warning.
        window.choose_method("tasks.task.list")
        window.params_editor.set_text('{"select": ["ID", "TITLE"]}')
        first = window.send()
        if first is not None:
            await first
        window.choose_method("crm.deal.list")
        window.params_editor.set_text(
            '{\n  "select": ["ID", "TITLE", "STAGE_ID", "OPPORTUNITY", "CURRENCY_ID"],\n'
            '  "filter": {">OPPORTUNITY": 1000},\n  "order": {"ID": "ASC"}\n}')
        shown = asyncio.get_running_loop().create_future()
    else:
        window.choose_method(method)
    task = window.send()
    if task is not None:
        await task
    await asyncio.wait_for(shown, 60)
    _expand_for_show(window.response_view)
    await asyncio.sleep(0.5)  # let layout and paint settle
    path.parent.mkdir(parents=True, exist_ok=True)
    if not window.grab().save(str(path), "PNG"):
        raise RuntimeError(f"could not save the screenshot to {path}")
    window.close()


def _expand_for_show(view: ResponseView) -> None:
    """Open ``result`` and its first two items, so the picture shows what a tree of deals looks like."""
    from b24explorer.ui.qt import QModelIndex

    model, tree = view.model, view.tree
    for row in range(model.rowCount(QModelIndex())):
        index = model.index(row, 0, QModelIndex())
        if index.data() == "result":
            tree.expand(index)
            for child in range(min(2, model.rowCount(index))):
                tree.expand(model.index(child, 0, index))
            break


async def show_keyring_state(ctx: AppContext) -> None:
    """Tell the window whether webhooks can be saved (the keyring probe runs off the UI thread)."""
    import asyncio

    from b24explorer.core import vault

    loop = asyncio.get_running_loop()
    try:
        usable = await loop.run_in_executor(None, vault.has_backend)
    except Exception:  # the probe itself failing means: no usable keyring
        usable = False
    try:
        description = await vault.abackend_description()
    except Exception as exc:
        description = f"{type(exc).__name__}: {exc}"
    ctx.window.show_keyring_state(usable, description)


def _close_on_signals(window: Any) -> None:
    """Ctrl+C / SIGTERM in the terminal close the window (and so clean up), instead of being swallowed.

    Python runs signal handlers only between bytecodes; a short idle timer gives it the chance while Qt waits.
    """
    import signal

    from b24explorer.ui.qt import QTimer

    def handler(_signum: int, _frame: Any) -> None:
        QTimer.singleShot(0, window.close)

    for name in ("SIGINT", "SIGTERM"):
        if hasattr(signal, name):
            with contextlib.suppress(ValueError, OSError):  # not the main thread, or not allowed here
                signal.signal(getattr(signal, name), handler)
    wake = QTimer(window)
    wake.setInterval(300)
    wake.timeout.connect(lambda: None)
    wake.start()


def install_crash_handler(ctx: AppContext, loop: asyncio.AbstractEventLoop) -> Any:
    """Unhandled exceptions (Qt slots, tasks, threads) become masked crash reports in the log directory; the log
    pane and the status bar say where. Returns the handler (``.uninstall()`` restores the previous hooks)."""
    from b24explorer import crash

    def show(path: Path, summary: str) -> None:
        ctx.workspace.log_bus.error("CRASH_REPORT", f"Unexpected {summary}; a report was saved to {path}")
        ctx.window.statusBar().showMessage(f"Unexpected error — a report was saved to {path}", 15000)

    def tell(path: Path, summary: str) -> None:
        # A worker thread's exception arrives on that thread: widgets are only touched on the GUI thread's loop.
        with contextlib.suppress(RuntimeError):  # the loop is already closed (exit): the report is written
            loop.call_soon_threadsafe(show, path, summary)

    return crash.install(ctx.workspace.known_secrets, tell, loop)


async def run_window(args: argparse.Namespace, app: Any, ctx: AppContext | None = None) -> int:
    """The window's life on the asyncio loop. ``ctx``: a window already built and shown (see :func:`main`)."""
    import asyncio

    if ctx is None:
        ctx = build(defer_power=True)
        first_paint = _FirstPaint(app, ctx.window)
        ctx.window.show()
        with contextlib.suppress(TimeoutError):  # a minimised or hidden start paints nothing: go on anyway
            async with asyncio.timeout(1.0):
                await first_paint.done
        first_paint.close()
    window = ctx.window
    crash_handler = install_crash_handler(ctx, asyncio.get_running_loop())
    closed = asyncio.Event()
    window.closed.connect(closed.set)
    if not window.is_open():  # closed while it was starting (the window manager's close button)
        closed.set()
    _close_on_signals(window)
    if args.sandbox:  # the portal saved last is not called while the sandbox starts
        window.await_connection(SANDBOX_CONNECTION)
    window.loop_started()
    ctx.install_power()
    exit_code = 0
    ctx.tasks.append(asyncio.ensure_future(show_keyring_state(ctx)))
    if args.sandbox:
        sandbox_started = asyncio.ensure_future(start_sandbox(ctx, args.sandbox_plan))
        ctx.tasks.append(sandbox_started)
    if args.screenshot is not None:
        async def shoot() -> None:
            nonlocal exit_code
            try:
                if args.sandbox:
                    await sandbox_started
                await _take_screenshot(ctx, args.screenshot, args.screenshot_method)
            except Exception as exc:
                print(f"screenshot failed: {type(exc).__name__}: {exc}", file=sys.stderr)
                exit_code = 1
                window.close()

        ctx.tasks.append(asyncio.ensure_future(shoot()))
    await closed.wait()
    for task in ctx.tasks:
        if not task.done():
            task.cancel()
    with contextlib.suppress(Exception):
        await ctx.aclose()
    crash_handler.uninstall()
    return exit_code


def main(argv: Sequence[str] | None = None) -> int:
    raw_args = list(argv) if argv is not None else sys.argv[1:]
    if raw_args[:1] == ["--jq-worker"]:  # the frozen app runs the response filter's jq child as itself
        from b24explorer.ui.jq_worker import main as jq_worker_main

        return jq_worker_main(raw_args)
    # A plain start (no arguments, as from a desktop launcher) has nothing to parse: the parser (whose first use
    # looks up its translations on disk) is built after the window has painted.
    args = parse_args(raw_args) if raw_args else None
    if args is not None and args.self_test:
        # The packaged app's smoke test lives in its own module (it builds its own app and loop).
        from b24explorer import selftest

        return int(selftest.run(list(argv) if argv is not None else sys.argv[1:]) or 0)
    os.environ.setdefault("QT_API", "pyside6")
    import gc

    # The start allocates a great deal (Qt, its enum classes, the app's modules and widgets) and frees next to nothing:
    # no collection pauses until the window has painted; then what the start made is set aside for good (frozen),
    # so later collections — and the first one — do not walk it again.
    gc.disable()
    try:
        from b24explorer.ui.qt import show_until_painted

        app = create_qapplication(argv, icon=False)
        app.setQuitOnLastWindowClosed(False)  # the coroutine below decides when to stop, after cleanup
        ctx = build(defer_power=True, loop_running=False)
        # A minimised or hidden start paints nothing: go on after a second anyway. Input meanwhile stays queued.
        show_until_painted(ctx.window, timeout_ms=1000)
    finally:
        gc.freeze()
        gc.enable()
    ctx.window.finish_start()  # syntax colours, menu icons: before any input queued meanwhile is handled
    set_window_icon(app)
    if args is None:
        args = parse_args([])

    import asyncio

    from b24explorer.ui.qt import QEventLoop

    loop = QEventLoop(app)
    asyncio.set_event_loop(loop)
    with loop:
        code = loop.run_until_complete(run_window(args, app, ctx))
    return code


if __name__ == "__main__":
    raise SystemExit(main())
