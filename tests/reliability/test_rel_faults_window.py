"""Fault matrix through the window: each sandbox fault × {single call, batch panel, list-all panel}.

Driven like a user drives it (the app's composition root, its services and widgets, qasync); the client's waits
run on a FakeClock. Each cell ends in a shown answer (after an allowed retry) or a readable error on screen that
names the code and never the secret; the window stays usable (Send enabled again).
"""

from __future__ import annotations

import json
from typing import Any

import pytest
from rel_matrix import (
    BATCH_COMMANDS,
    CALL_METHOD,
    CALL_PARAMS,
    CASE_IDS,
    CASES,
    LIST_METHOD,
    LIST_PARAMS,
    MODES,
    OK,
    V3_METHOD,
    V3_PARAMS,
    FaultCase,
    arm,
    assert_readable,
    http_method,
    webhook_for,
)
from rel_stats import count
from rel_window import close_loop, failed_tasks, make_loop, open_window, runner, window_panel

from b24explorer.core.clock import FakeClock
from b24explorer.ui.qt import QModelIndex


@pytest.fixture
def wloop(qapp: Any) -> Any:
    loop = make_loop(qapp)
    yield loop
    close_loop(loop)


@pytest.fixture
def window_for(qtbot: Any, wloop: Any, rel_home: Any) -> Any:
    contexts: list[Any] = []

    def factory(url: str, **options: Any) -> Any:
        ctx = open_window(qtbot, url, **options)
        contexts.append(ctx)
        return ctx

    yield factory
    for ctx in contexts:
        ctx.window.cancel()
        wloop.run_until_complete(ctx.aclose())


def code_of(error: Any) -> str:
    original = getattr(error, "original_error", None)
    if original is not None and hasattr(original, "code"):
        return str(original.code)
    return str(getattr(error, "code", type(error).__name__))


def visible_texts(ctx: Any) -> list[str]:
    window = ctx.window
    texts = [window.windowTitle(), window.error_banner.text(), window.statusBar().currentMessage()]
    texts += [row.as_text() for row in window.log_pane.model.rows]
    return texts


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("case", CASES, ids=CASE_IDS)
def test_fault_matrix_window(case: FaultCase, mode: str, sb: Any, window_for: Any, wloop: Any, qtbot: Any) -> None:
    url = webhook_for(sb, case)
    clock = FakeClock()
    ctx = window_for(url, clock=clock, timeout=case.timeout)
    window = ctx.window
    run = runner(wloop)
    arm(sb, case, mode)
    expected = case.outcome_for(mode)

    if mode in ("call", "call_v3"):
        v3 = mode == "call_v3"
        window.choose_method(V3_METHOD if v3 else CALL_METHOD)
        window.api_switch.set_api(3 if v3 else 2)
        window.params_editor.set_text(json.dumps(V3_PARAMS if v3 else CALL_PARAMS))
        task = window.send()
        assert task is not None
        run(task)
        outcome = window._last_outcome
        got = outcome.error_code or OK
        shown = [window.error_banner.text()] if got != OK else []
        if got == OK:
            assert outcome.result.is_success
            assert window.response_view.model.rowCount(QModelIndex()) > 0
            assert not window.error_banner.isVisible()
        else:
            assert window.error_banner.isVisible()
            assert expected in window.error_banner.text()
        assert window.send_action.isEnabled(), "the window is usable again"
    elif mode == "batch":
        panel = window_panel(ctx, "batch", qtbot)
        panel.set_commands(BATCH_COMMANDS, halt=True)
        task = panel.send()
        assert task is not None
        run(task)
        if panel.last_error is not None:
            got = code_of(panel.last_error)
        else:
            errors = panel.last_result.errors
            got = next(iter(errors.values())).code if errors else OK
        shown = [panel.status_label.text()]
        if got != OK:
            assert expected in panel.status_label.text()
        else:
            assert panel.rows_model.rowCount() == len(BATCH_COMMANDS)
        assert panel.send_button.isEnabled()
    else:
        panel = window_panel(ctx, "list", qtbot)
        panel.set_request(LIST_METHOD, LIST_PARAMS)
        task = panel.start()
        assert task is not None
        run(task)
        got = OK if panel.last_error is None else code_of(panel.last_error)
        shown = [panel.progress_label.text()]
        if got == OK:
            assert panel.items_received == len(sb.store.deals)
        else:
            assert expected in panel.progress_label.text()
        assert panel.start_button.isEnabled()

    assert got == expected, f"{case.name}/{mode}: {got} ({' | '.join(shown)})"
    assert sb.counters.requests(http_method(mode)) == case.requests
    if got != OK:
        for text in shown:
            assert_readable(text, sb.secret)
    for text in visible_texts(ctx):
        assert sb.secret not in text
    owners = [window] + ([panel] if mode in ("batch", "list") else [])
    assert failed_tasks(*owners) == []
    count(f"matrix.window.{mode}")


@pytest.mark.parametrize("kind", ["reset_after", "delay"])
def test_window_add_hit_after_sending_is_performed_once(kind: str, wsb: Any, window_for: Any, wloop: Any) -> None:
    import time

    from rel_matrix import DELAY, SHORT_TIMEOUT

    ctx = window_for(wsb.webhook_url, clock=FakeClock(), timeout=SHORT_TIMEOUT)
    window = ctx.window
    wsb.faults.add(kind=kind, method="crm.deal.add", count=1, seconds=DELAY if kind == "delay" else 0)
    window.choose_method("crm.deal.add")
    window.params_editor.set_text('{"fields": {"TITLE": "window once"}}')
    task = window.send()
    assert task is not None
    runner(wloop)(task)
    time.sleep(DELAY if kind == "delay" else 0)
    assert window._last_outcome.error_code in ("NETWORK_ERROR", "REQUEST_TIMEOUT")
    assert "may have performed it" in window.error_banner.text()
    assert wsb.counters.requests("crm.deal.add") == 1
    assert wsb.counters.writes("crm.deal.add") == 1
    assert window.send_action.isEnabled()


def test_closing_the_window_mid_request_leaves_no_unhandled_exception(sb: Any, qtbot: Any, wloop: Any,
                                                                      rel_home: Any, unhandled: Any) -> None:
    """Method list and a call still in flight (slow portal) when the window is closed and deleted."""
    import asyncio
    import gc

    for method in ("methods", "scope", CALL_METHOD):  # the method list and the call are both slow
        sb.faults.add(kind="delay", method=method, seconds=1.0, count=1)
    ctx = open_window(qtbot, sb.webhook_url, register=False, clock=FakeClock())
    window = ctx.window
    window.choose_method(CALL_METHOD)
    window.params_editor.set_text(json.dumps(CALL_PARAMS))
    task = window.send()
    assert task is not None
    run = runner(wloop)
    wloop.run_until_complete(asyncio.sleep(0.1))  # not `run`: it would let the slow call finish first
    assert not task.done(), "the call is still in flight when the window closes"
    window.close()
    window.deleteLater()
    run(asyncio.sleep(1.5))  # the slow answers arrive after the widgets are gone
    run(ctx.aclose())
    tasks = [task, getattr(window, "_methods_task", None)]
    failures = [t.exception() for t in tasks if t is not None and t.done() and not t.cancelled()]
    # (reading them above also keeps a failure here from being reported during a later test's teardown)
    assert task.done()
    assert [f for f in failures if f is not None] == []
    gc.collect()
    assert not unhandled.events, unhandled.events
