"""The start paints the window before asyncio and its loop exist (issue 7): whatever the user does in that moment
is kept and done once the loop runs — a request typed and sent right after the window appears goes out."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from b24explorer.app import build
from b24explorer.core import vault
from b24explorer.core.connections import Connection
from b24explorer.core.state import FileState
from b24explorer.core.webhook import Webhook
from b24explorer.sandbox import Sandbox
from b24explorer.ui import qt
from b24explorer.ui.qt import Qt, QTimer

CONNECTION = "Portal"


def save_connection(sb: Sandbox) -> None:
    """A saved connection (settings + keyring) that the window selects when it opens, as after a restart."""
    hook = Webhook.parse(sb.webhook_url)
    reference = vault.new_reference()
    vault.save_webhook(reference, hook.url)
    settings = FileState()
    settings.save_connections([Connection(reference, CONNECTION, hook.portal, hook.user_id)])
    settings.save_ui_state({"connection": CONNECTION})


def test_send_before_the_loop_runs_goes_out_once_it_does(qtbot: Any, qloop: Any, app_home: Any,
                                                         sb: Sandbox, until: Any) -> None:
    save_connection(sb)
    ctx = build(settings=FileState(), defer_power=True, loop_running=False)
    window = ctx.window
    qtbot.addWidget(window)
    outcomes: list[Any] = []
    window.request_finished.connect(outcomes.append)
    assert window.connection.name == CONNECTION
    window.method_field.setText("server.time")

    assert window.send() is None  # no loop yet: kept, not sent and not dropped
    assert window.method_picker.entry("crm.deal.list") is None  # the method list waits for the loop too

    async def start_loop_work() -> None:
        window.loop_started()
        await until(lambda: outcomes, what="the request asked for before the loop ran")
        await until(lambda: window.method_picker.entry("crm.deal.list") is not None, what="the method list")

    try:
        qloop.run_until_complete(asyncio.wait_for(start_loop_work(), 20))
        assert [(o.method, o.status, o.error_code) for o in outcomes] == [("server.time", 200, "")]
    finally:
        qloop.run_until_complete(ctx.aclose())


def test_typing_and_ctrl_enter_right_after_the_first_paint_are_not_lost(
        qtbot: Any, app_home: Any, sb: Sandbox, app_globals: None, monkeypatch: pytest.MonkeyPatch) -> None:
    from b24explorer import app

    save_connection(sb)
    real_show = qt.show_until_painted
    seen: dict[str, Any] = {"outcomes": []}

    def show_then_type(window: Any, timeout_ms: int = 1000) -> bool:
        seen["painted"] = real_show(window, timeout_ms)
        try:
            asyncio.get_running_loop()
            seen["loop_running"] = True
        except RuntimeError:
            seen["loop_running"] = False
        window.request_finished.connect(seen["outcomes"].append)
        window.response_shown.connect(lambda _result: window.close())
        QTimer.singleShot(20000, window.close)  # never hang the suite
        # The user, right after the window appears: types a method and presses Ctrl+Enter.
        qtbot.keyClicks(window.method_field, "server.time")
        qtbot.keyClick(window.method_field, Qt.Key.Key_Return, Qt.KeyboardModifier.ControlModifier)
        seen["typed"] = window.method_field.text()
        return bool(seen["painted"])

    monkeypatch.setattr(qt, "show_until_painted", show_then_type)
    assert app.main([]) == 0
    assert seen["painted"]
    assert seen["loop_running"] is False  # the keys came before the app's asyncio loop ran
    assert seen["typed"] == "server.time"
    assert [(o.method, o.status, o.error_code) for o in seen["outcomes"]] == [("server.time", 200, "")]


def test_a_window_closed_while_starting_ends_the_app(qapp: Any, app_home: Any, app_globals: None,
                                                     monkeypatch: pytest.MonkeyPatch, run_app_main: Any) -> None:

    real_show = qt.show_until_painted

    def show_then_close(window: Any, timeout_ms: int = 1000) -> bool:
        painted = real_show(window, timeout_ms)
        window.close()  # the window manager's close button, before the asyncio loop runs
        return painted

    monkeypatch.setattr(qt, "show_until_painted", show_then_close)
    assert run_app_main([]) == 0
