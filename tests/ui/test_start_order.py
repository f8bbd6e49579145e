"""Start-up order: the window paints first; the power features (modes, history dock) are installed right after,
and the history dock still comes back where the user left it."""

from __future__ import annotations

import asyncio
from typing import Any

from b24explorer.app import _FirstPaint, build
from b24explorer.core.state import FileState
from b24explorer.ui.qt import QApplication, Qt


def modes(window: Any) -> list[str]:
    return [window.mode_combo.itemData(i) or "single" for i in range(window.mode_combo.count())]


def test_power_features_come_after_the_first_paint(qtbot, qloop, app_home) -> None:
    async def start() -> tuple[Any, list[str]]:
        ctx = build(settings=FileState(), defer_power=True)
        qtbot.addWidget(ctx.window)
        assert getattr(ctx.window, "power", None) is None
        painted = _FirstPaint(QApplication.instance(), ctx.window)
        ctx.window.show()
        await asyncio.wait_for(painted.done, 10)
        before = modes(ctx.window)
        ctx.install_power()
        return ctx, before

    ctx, before = qloop.run_until_complete(start())
    try:
        assert before == ["single"]
        assert modes(ctx.window) == ["single", "batch", "list", "migration"]
        assert ctx.power.history_dock.parent() is ctx.window
    finally:
        qloop.run_until_complete(ctx.aclose())


def test_history_dock_placement_survives_the_deferred_install(qtbot, qloop, app_home) -> None:
    first = build(settings=FileState())  # as the tests and the self-test build it: everything at once
    qtbot.addWidget(first.window)
    dock = first.power.history_dock
    first.window.removeDockWidget(dock)
    first.window.addDockWidget(Qt.DockWidgetArea.LeftDockWidgetArea, dock)
    dock.show()
    first.workspace.state.save_ui_state(first.window.ui_state())
    qloop.run_until_complete(first.aclose())
    first.workspace.state.flush()

    second = build(settings=FileState(), defer_power=True)
    qtbot.addWidget(second.window)
    try:
        second.install_power()
        again = second.power.history_dock
        assert second.window.dockWidgetArea(again) == Qt.DockWidgetArea.LeftDockWidgetArea
    finally:
        qloop.run_until_complete(second.aclose())
