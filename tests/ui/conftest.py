"""Fixtures of the UI tests: a qasync event loop, an app home, an in-memory keyring, the window on the sandbox.

Any UI test can use ``qloop`` (a ``qasync.QEventLoop`` over pytest-qt's ``qapp``) and ``arun(coro)`` to drive
coroutines on it; widgets then run their asyncio work exactly as in the app.
"""

from __future__ import annotations

import asyncio
import gc
import os
import signal
from collections.abc import Awaitable, Callable, Iterator
from pathlib import Path
from typing import Any, TypeVar

import keyring
import pytest
from keyring_backends import MemoryKeyring

from b24explorer.core import B24Client, LimitsConfig
from b24explorer.sandbox import Sandbox
from b24explorer.ui import qt  # noqa: F401  (binding chosen before qasync)

import qasync  # isort: skip

T = TypeVar("T")

# The offscreen platform cannot do some window-manager requests and says so as a warning; not the app's fault.
PLATFORM_NOISE = (r"This plugin does not support propagateSizeHints\(\)",
                  r"This plugin does not support raise\(\)",
                  r"This plugin does not support grabbing the keyboard")


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    here = Path(__file__).parent
    for item in items:
        if here in Path(str(item.fspath)).parents:
            item.add_marker(pytest.mark.qt_log_ignore(*PLATFORM_NOISE))


@pytest.fixture(autouse=True)
def _collect_garbage_on_the_gui_thread() -> Iterator[None]:
    """Collect cyclic garbage here, on the GUI thread, after the widgets are closed.

    Otherwise Python may collect a cycle holding a Qt object during an allocation in some worker thread
    (keyring, sandbox, executor), and Qt then destroys that object outside its thread.
    """
    yield
    gc.collect()


@pytest.fixture
def qloop(qapp: Any) -> Iterator[asyncio.AbstractEventLoop]:
    """A qasync loop on the test QApplication; pending tasks are cancelled and awaited at teardown."""
    loop = qasync.QEventLoop(qapp)
    asyncio.set_event_loop(loop)
    try:
        yield loop
    finally:
        pending = [t for t in asyncio.all_tasks(loop) if not t.done()]
        for task in pending:
            task.cancel()
        if pending:
            loop.run_until_complete(asyncio.gather(*pending, return_exceptions=True))
        loop.run_until_complete(loop.shutdown_asyncgens())
        loop.close()
        asyncio.set_event_loop(None)


@pytest.fixture
def arun(qloop: asyncio.AbstractEventLoop) -> Callable[..., Any]:
    """``arun(coro, timeout=20)``: run a coroutine on the qasync loop (Qt events are processed meanwhile)."""

    def run(coro: Awaitable[T], timeout: float = 20.0) -> T:
        return qloop.run_until_complete(asyncio.wait_for(coro, timeout))

    return run


async def wait_until(predicate: Callable[[], Any], within: float = 10.0, what: str = "condition") -> Any:
    """Poll ``predicate`` on the running loop until it is truthy; fails naming ``what`` after ``within`` s."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + within
    while True:
        value = predicate()
        if value:
            return value
        if loop.time() > deadline:
            raise AssertionError(f"timed out after {within} s waiting for {what}")
        await asyncio.sleep(0.02)


@pytest.fixture
def until() -> Callable[..., Awaitable[Any]]:
    """``await until(predicate, within=10, what="…")`` inside a coroutine run by ``arun``."""
    return wait_until


@pytest.fixture
def app_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Every directory the app writes to, under one temporary home."""
    home = tmp_path / "home"
    monkeypatch.setenv("B24X_HOME", str(home))
    return home


@pytest.fixture(autouse=True)
def _ui_keyring(request: pytest.FixtureRequest) -> Iterator[MemoryKeyring | None]:
    """UI tests get an in-memory keyring, except those marked ``real_keyring`` (a real Secret Service)."""
    previous = keyring.get_keyring()
    if request.node.get_closest_marker("real_keyring") is not None:
        if os.environ.get("B24X_REAL_KEYRING") != "1":
            reason = "needs a real Secret Service: run through scripts/run-tests (sets B24X_REAL_KEYRING=1)"
            if os.environ.get("CI"):
                pytest.fail(f"CI must run the real keyring tests: {reason}")
            pytest.skip(reason)
        yield None
    else:
        backend = MemoryKeyring()
        keyring.set_keyring(backend)
        yield backend
    keyring.set_keyring(previous)


@pytest.fixture
def memory_keyring(_ui_keyring: MemoryKeyring | None) -> MemoryKeyring:
    assert _ui_keyring is not None, "memory_keyring cannot be used in a real_keyring test"
    return _ui_keyring


@pytest.fixture
def client(sb: Sandbox, arun: Callable[..., Any]) -> Iterator[B24Client]:
    """A client on the sandbox without client-side rate limits, closed after the test."""
    c = B24Client(sb.webhook_url, limits=LimitsConfig.unlimited())
    yield c
    arun(c.aclose())


@pytest.fixture
def make_window(qtbot: Any, qloop: asyncio.AbstractEventLoop, app_home: Path) -> Iterator[Callable[..., Any]]:
    """``make_window(sandbox=sb, settings=None, **client_options)`` → the app's real window (AppContext).

    Built by the composition root, shown, connected to ``sandbox`` through an in-memory "Sandbox" connection —
    all inside a run of the qasync loop, as in the app, so work the window defers to the loop (method list,
    history) starts in a running loop rather than between runs.
    """
    from b24explorer.app import SANDBOX_CONNECTION, build
    from b24explorer.core.webhook import Webhook

    contexts: list[Any] = []

    async def open_window(sandbox: Any, settings: Any, client_options: dict[str, Any]) -> Any:
        ctx = build(settings=settings, client_options=client_options or None)
        contexts.append(ctx)
        qtbot.addWidget(ctx.window)
        if sandbox is not None:
            ctx.workspace.connections.add_sandbox(SANDBOX_CONNECTION, Webhook.parse(sandbox.webhook_url))
            ctx.window.refresh_connections(SANDBOX_CONNECTION)
        ctx.window.show()
        await wait_until(lambda: ctx.window.windowHandle() is not None and ctx.window.windowHandle().isExposed(),
                         what="the window to be exposed")
        await asyncio.sleep(0.05)  # deferred start-up work (zero timers) runs now, inside the loop
        # The connection's method list loads over HTTP: it finishes inside this run of the loop. Left to run on
        # across the end of this run and the start of the test's next one, httpx's async-library detection
        # failed half-way through one of its requests (AsyncLibraryNotFoundError) now and then, leaving that
        # connection locked for every later request (a send then waited forever).
        await wait_until(lambda: not ctx.window.loading_methods(), within=15, what="the start-up method list")
        return ctx

    def factory(sandbox: Any = None, settings: Any = None, **client_options: Any) -> Any:
        return qloop.run_until_complete(asyncio.wait_for(open_window(sandbox, settings, client_options), 20))

    yield factory
    for ctx in contexts:
        ctx.window.cancel()
        qloop.run_until_complete(ctx.aclose())  # pytest-qt closes the window itself


@pytest.fixture
def app_globals(qapp: Any) -> Iterator[None]:
    """`app.main` sets process-wide things (signal handlers, the quit policy, the asyncio loop): put them back."""
    handlers = {sig: signal.getsignal(sig) for sig in (signal.SIGINT, signal.SIGTERM)}
    quit_on_close = qapp.quitOnLastWindowClosed()
    try:
        yield
    finally:
        for sig, handler in handlers.items():
            signal.signal(sig, handler)
        qapp.setQuitOnLastWindowClosed(quit_on_close)
        asyncio.set_event_loop(None)


@pytest.fixture
def run_app_main(app_globals: None) -> Callable[[list[str]], int]:
    """`app.main(args)`, as the command runs it; were the app to wait on for ever, a guard stops its loop after
    20 s, so main() raises instead of hanging the suite."""
    from b24explorer import app
    from b24explorer.ui.qt import QTimer

    def run(args: list[str]) -> int:
        hang_guard = QTimer()
        hang_guard.setSingleShot(True)
        hang_guard.timeout.connect(lambda: asyncio.get_event_loop().stop())
        hang_guard.start(20000)
        try:
            return app.main(args)
        finally:
            hang_guard.stop()

    return run
