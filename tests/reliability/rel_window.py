"""Driving the explorer window (and its batch and list-all panels) for the reliability tests."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

from b24explorer.ui import qt  # noqa: F401  (binding chosen before qasync)

import qasync  # isort: skip

T = TypeVar("T")


def make_loop(qapp: Any) -> asyncio.AbstractEventLoop:
    loop = qasync.QEventLoop(qapp)
    asyncio.set_event_loop(loop)
    return loop


def close_loop(loop: asyncio.AbstractEventLoop) -> None:
    pending = [t for t in asyncio.all_tasks(loop) if not t.done()]
    for task in pending:
        task.cancel()
    if pending:
        loop.run_until_complete(asyncio.gather(*pending, return_exceptions=True))
    loop.run_until_complete(loop.shutdown_asyncgens())
    loop.close()
    asyncio.set_event_loop(None)


def settle(loop: asyncio.AbstractEventLoop, within: float = 5.0) -> None:
    """Let the window's own background tasks (method-list loads, history writes) finish while the loop runs.

    Between two run_until_complete calls Qt still delivers events, and a task stepped then runs outside a running
    asyncio loop: anyio's locks inside httpcore fail half-taken and the next request on that connection waits
    forever. The app itself never stops its loop; only a test that starts and stops it must settle first.
    """
    pending = {task for task in asyncio.all_tasks(loop) if not task.done()}
    if pending:
        loop.run_until_complete(asyncio.wait(pending, timeout=within))


def runner(loop: asyncio.AbstractEventLoop) -> Callable[..., Any]:
    def run(coro: Awaitable[T], timeout: float = 20.0) -> T:
        try:
            return loop.run_until_complete(asyncio.wait_for(coro, timeout))
        finally:
            settle(loop)

    return run


def open_window(qtbot: Any, webhook_url: str | None, *, register: bool = True, **client_options: Any) -> Any:
    """The app's real window from its composition root, shown, with an in-memory "Sandbox" connection."""
    from b24explorer.app import SANDBOX_CONNECTION, build
    from b24explorer.core.webhook import Webhook

    ctx = build(client_options=client_options or None)
    if register:  # pytest-qt closes it after the test (a test that deletes the window itself opts out)
        qtbot.addWidget(ctx.window)
    if webhook_url is not None:
        ctx.workspace.connections.add_sandbox(SANDBOX_CONNECTION, Webhook.parse(webhook_url))
        ctx.window.refresh_connections(SANDBOX_CONNECTION)
    ctx.window.show()
    qtbot.waitExposed(ctx.window)
    return ctx


def window_panel(ctx: Any, kind: str, qtbot: Any) -> Any:
    """The window's batch or list-all panel; built beside the window on the app's own services while the window
    does not host the mode yet."""
    window = ctx.window
    power = ctx.power
    if power is not None:
        from b24explorer.ui.modes import MODE_BATCH, MODE_LIST

        window.set_mode(MODE_BATCH if kind == "batch" else MODE_LIST)
        return power.batch if kind == "batch" else power.list_all
    from b24explorer.app import SANDBOX_CONNECTION
    from b24explorer.ui.batch_editor import BatchEditor
    from b24explorer.ui.list_all import ListAllPanel
    from b24explorer.ui.response_view import ResponseView

    def provider() -> Any:
        return ctx.workspace.client(SANDBOX_CONNECTION)

    cls = BatchEditor if kind == "batch" else ListAllPanel
    panel = cls(provider, ResponseView())
    qtbot.addWidget(panel)
    panel.show()
    return panel


def failed_tasks(*owners: Any) -> list[str]:
    """Tasks kept on widgets (`self._task`, `self._methods_task` …) that ended in an exception: still referenced,
    so asyncio would not report them yet — but they are unhandled all the same."""
    out = []
    for owner in owners:
        for name, value in vars(owner).items():
            if isinstance(value, asyncio.Task) and value.done() and not value.cancelled() and value.exception():
                out.append(f"{type(owner).__name__}.{name}: {value.exception()!r}")
    return out
