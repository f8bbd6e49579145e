"""A shown answer's lazy document is let go as soon as the next answer replaces it — not at the next full
garbage collection — so its memory returns and its simdjson parser can be reused for the next answer."""

from __future__ import annotations

import gc
import json
from typing import Any

from b24explorer.core import jsondoc
from b24explorer.core.result import AjaxResult
from b24explorer.ui.response_view import ResponseView


def answer(n: int) -> AjaxResult:
    body = {"result": [{"ID": str(i), "TITLE": f"Deal {i}", "F": {"X": [i, i]}} for i in range(n)], "total": n}
    return AjaxResult(json.dumps(body).encode(), status=200, method="crm.deal.list")


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
        first = answer(300)
        parser = first.document._parser
        view.show_result(first)
        browse(qtbot, view)
        assert not jsondoc._is_idle(parser)  # shown: its document is in use
        del first
        view.show_result(answer(200))
        qtbot.wait(20)
        assert jsondoc._is_idle(parser)
    finally:
        gc.enable()
