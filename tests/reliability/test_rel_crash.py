"""The crash-report path: an unhandled exception in the app becomes a masked report, and the app keeps working.

Three ways an exception escapes in a Qt + asyncio app: a Qt slot (PySide hands it to `sys.excepthook`), an
asyncio task nobody awaits ("Task exception was never retrieved", the loop's exception handler), a worker
thread (`threading.excepthook`). Each carries the webhook URL in its message, as an httpx error would. Each must
end in a report under the app's log directory with the secret masked, a masked notice for the user, and a
window that still sends requests.
"""

from __future__ import annotations

import asyncio
import gc
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from rel_stats import count
from rel_window import close_loop, make_loop, open_window, runner

from b24explorer import crash
from b24explorer.core.paths import log_dir
from b24explorer.ui.qt import QTimer


def install_for(ctx: Any, loop: asyncio.AbstractEventLoop) -> Any:
    """The app's own wiring when it has one (`app.install_crash_handler`), else the same glue here."""
    from b24explorer import app

    wiring = getattr(app, "install_crash_handler", None)
    if wiring is not None:
        return wiring(ctx, loop)

    def tell(path: Path, summary: str) -> None:
        loop.call_soon_threadsafe(ctx.workspace.log_bus.error, "CRASH_REPORT",
                                  f"Unexpected {summary}; a report was saved to {path}")

    return crash.install(ctx.workspace.known_secrets, tell, loop)


def test_report_text_masks_the_webhook(rel_home: Path) -> None:
    url = "https://portal.bitrix24.com/rest/7/abcdef1234567890/crm.deal.add?auth=tok3n123456"
    try:
        raise ConnectionError(f"could not reach {url}")
    except ConnectionError as exc:
        path = crash.write_report(exc, where="test", secrets=("abcdef1234567890",))
    text = path.read_text(encoding="utf-8")
    assert path.parent == log_dir()
    assert "ConnectionError" in text
    assert "Traceback" in text
    assert "abcdef1234567890" not in text
    assert "tok3n123456" not in text
    assert "/rest/7/ab…90" in text


@pytest.fixture
def wloop(qapp: Any) -> Iterator[asyncio.AbstractEventLoop]:
    loop = make_loop(qapp)
    yield loop
    close_loop(loop)


@pytest.mark.qt_no_exception_capture
def test_unhandled_exceptions_become_masked_reports(sb: Any, qtbot: Any, wloop: Any, rel_home: Path,
                                                    unhandled: Any) -> None:
    url, secret = sb.webhook_url, sb.secret
    run = runner(wloop)
    ctx = open_window(qtbot, url)
    handler = install_for(ctx, wloop)
    try:
        def slot() -> None:
            raise RuntimeError(f"slot failed talking to {url}")

        QTimer.singleShot(0, slot)  # a Qt slot: PySide hands the exception to sys.excepthook

        async def task() -> None:
            raise ValueError(f"task failed for {url}crm.deal.list")

        asyncio.ensure_future(task())  # noqa: RUF006  never awaited: the loop reports it once collected

        def worker() -> None:
            raise OSError(f"worker failed: {url}")

        thread = threading.Thread(target=worker, name="b24x-test-worker")

        async def provoke() -> None:
            await asyncio.sleep(0.05)
            gc.collect()
            thread.start()
            thread.join()
            await asyncio.sleep(0.05)

        run(provoke())
        reports = sorted(log_dir().glob("crash-*.txt"))
        texts = [p.read_text(encoding="utf-8") for p in reports]
        kinds = {kind for kind in ("RuntimeError", "ValueError", "OSError") if any(kind in t for t in texts)}
        assert kinds == {"RuntimeError", "ValueError", "OSError"}, texts
        for text in texts:
            assert secret not in text
            assert "/rest/1/" in text  # the path is there, masked
        notices = [row.as_text() for row in ctx.window.log_pane.model.rows if "report" in row.as_text()]
        assert notices, "the user is told a report was saved"
        for text in [*notices, ctx.window.statusBar().currentMessage(), ctx.window.windowTitle()]:
            assert secret not in text
        unhandled.events.clear()  # they were handled — by the crash handler, which is the point of this test

        # the app still works
        ctx.window.choose_method("server.time")
        ctx.window.params_editor.set_text("{}")
        sent = ctx.window.send()
        assert sent is not None
        run(sent)
        assert ctx.window._last_outcome.error_code == ""
    finally:
        handler.uninstall()
        wloop.set_exception_handler(None)
        run(ctx.aclose())
    count("secrets.crash_reports", len(reports))
