"""What the first paint does not show is done right after it (issue 7): the params' syntax colours and the icons
of menu-only actions. The window paints without them; the app adds them before it handles any input."""

from __future__ import annotations

from typing import Any

import pytest

from b24explorer.app import build
from b24explorer.core.state import MemoryState
from b24explorer.ui import qt


def _finished(window: Any) -> dict[str, bool]:
    return {"colours": window.params_editor.highlighter is not None,
            "connections icon": not window.connections_action.icon().isNull(),
            "docs icon": not window.docs_action.icon().isNull()}


def test_a_window_built_for_the_start_leaves_them_to_finish_start(qtbot: Any, app_home: Any) -> None:
    window = build(settings=MemoryState(), defer_power=True, loop_running=False).window
    qtbot.addWidget(window)
    assert _finished(window) == {"colours": False, "connections icon": False, "docs icon": False}
    assert not window.send_action.icon().isNull()  # the toolbar's icons are in the first paint
    window.finish_start()
    assert _finished(window) == {"colours": True, "connections icon": True, "docs icon": True}
    highlighter = window.params_editor.highlighter
    window.finish_start()  # once only
    assert window.params_editor.highlighter is highlighter


def test_a_window_built_with_a_running_loop_has_them_at_once(qtbot: Any, app_home: Any) -> None:
    window = build(settings=MemoryState(), defer_power=True).window
    qtbot.addWidget(window)
    assert _finished(window) == {"colours": True, "connections icon": True, "docs icon": True}


def test_the_app_adds_them_right_after_the_first_paint(qapp: Any, app_home: Any, app_globals: None,
                                                       monkeypatch: pytest.MonkeyPatch, run_app_main: Any) -> None:

    real_show = qt.show_until_painted
    seen: dict[str, Any] = {}

    def show_then_close(window: Any, timeout_ms: int = 1000) -> bool:
        seen["painted"] = real_show(window, timeout_ms)
        seen["at paint"] = _finished(window)
        seen["window"] = window
        window.close()  # ends the app once its loop runs
        return bool(seen["painted"])

    monkeypatch.setattr(qt, "show_until_painted", show_then_close)
    assert run_app_main([]) == 0
    assert seen["painted"]
    assert seen["at paint"] == {"colours": False, "connections icon": False, "docs icon": False}
    assert _finished(seen["window"]) == {"colours": True, "connections icon": True, "docs icon": True}
