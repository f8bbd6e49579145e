"""A shown answer is let go as soon as the next answer replaces it — not at the next full garbage collection —
so the memory of its body (which its lazy nodes view) returns at once."""

from __future__ import annotations

import gc
import json
import sys
from typing import Any

from b24explorer.core.result import AjaxResult
from b24explorer.ui.response_view import ResponseView


def body_of(n: int) -> bytes:
    value = {"result": [{"ID": str(i), "TITLE": f"Deal {i}", "F": {"X": [i, i]}} for i in range(n)], "total": n}
    return json.dumps(value).encode()


def browse(qtbot: Any, view: ResponseView) -> None:
    """Open nodes in the tree (the result array, a range, a deal, a nested object), show the raw view, find."""
    model, tree = view.model, view.tree
    result = model.index(0, 0)
    tree.expand(result)
    a_range = model.index(1, 0, result)
    tree.expand(a_range)
    deal = model.index(3, 0, a_range)
    tree.expand(deal)
    tree.expand(model.index(2, 0, deal))
    view.tabs.setCurrentWidget(view.raw_view)
    qtbot.wait(20)
    view.tabs.setCurrentWidget(view.tree)
    view.find_edit.setText("Deal 150")
    qtbot.waitUntil(lambda: not view.searching, timeout=5000)


def test_the_previous_answer_is_released_without_a_garbage_collection(qtbot: Any) -> None:
    view = ResponseView()
    qtbot.addWidget(view)
    view.resize(900, 600)
    view.show()
    gc.collect()
    gc.disable()
    try:
        body = body_of(300)
        alone = sys.getrefcount(body)
        first = AjaxResult(body, status=200, method="crm.deal.list")
        view.show_result(first)
        browse(qtbot, view)
        assert view.hits  # the search ran over the lazy document
        assert sys.getrefcount(body) > alone + 1  # the result and the lazy nodes over it hold the body
        del first
        view.show_result(AjaxResult(body_of(200), status=200, method="crm.deal.list"))
        qtbot.wait(20)
        assert sys.getrefcount(body) == alone
    finally:
        gc.enable()
