"""The response status line: HTTP status, duration, size, request id, operating budget, total/next."""

from __future__ import annotations

from b24explorer.ui.status_bar import ResponseFacts, ResponseStatus, human_duration, human_size


def test_human_units() -> None:
    assert human_size(512) == "512 B"
    assert human_size(6077) == "5.9 KB"
    assert human_size(32 * 1024 * 1024) == "32.0 MB"
    assert human_duration(0.072) == "72 ms"
    assert human_duration(2.5) == "2.50 s"


def test_facts_of_a_list_page(qtbot) -> None:
    status = ResponseStatus()
    qtbot.addWidget(status)
    status.show()
    status.show_facts(ResponseFacts(200, 0.183, 6077, "rid-7", operating=1.25, total=9963, next=50))
    assert "HTTP 200" in status.status_label.text()
    assert status.time_label.text() == "183 ms"
    assert status.size_label.text() == "5.9 KB"
    assert status.list_label.text() == "total 9963 · next 50"
    assert status.request_label.text() == "id rid-7"
    assert "operating 1.25 s / 480 s" in status.operating_label.text()
    assert status.operating_bar.value() == int(1.25 / 480 * 1000)


def test_operating_budget_warns_near_the_limit(qtbot) -> None:
    status = ResponseStatus()
    qtbot.addWidget(status)
    status.show_facts(ResponseFacts(200, 0.1, 10, "r", operating=400.0))
    assert "#b26a00" in status.operating_label.text()
    status.show_facts(ResponseFacts(200, 0.1, 10, "r", operating=476.0))
    assert "#c62828" in status.operating_label.text()
    assert status.operating_bar.value() == int(476 / 480 * 1000)


def test_an_error_without_http_answer(qtbot) -> None:
    status = ResponseStatus()
    qtbot.addWidget(status)
    status.show_facts(ResponseFacts(None, 30.0, None, None, ok=False, error_code="NETWORK_TIMEOUT"))
    assert "no HTTP answer · NETWORK_TIMEOUT" in status.status_label.text()
    assert status.size_label.isHidden()
    assert status.list_label.isHidden()
