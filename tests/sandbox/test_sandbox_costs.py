"""The cost model: a delay per request, a cost per list page, a COUNT cost per matching row for pages asked with
start >= 0, all served concurrently. Wall times here are behaviour checks with wide margins, not speed targets;
where a figure can be read exactly (operating time) it is."""

from __future__ import annotations

import signal
import threading
import time
from collections.abc import Callable
from typing import Any

import httpx
import pytest
from test_sandbox_cli_and_seed import start_cli
from test_sandbox_limits import FakeClock

from b24explorer.sandbox import Costs, Sandbox


def timed(fn: Callable[[], httpx.Response]) -> tuple[float, httpx.Response]:
    started = time.perf_counter()
    answer = fn()
    return time.perf_counter() - started, answer


def operating(answer: httpx.Response) -> float:
    return float(answer.json()["time"]["operating"])


def test_costs_are_off_by_default(make_sandbox: Callable[..., Sandbox]) -> None:
    sandbox = make_sandbox()
    assert sandbox.costs == Costs()
    with httpx.Client(base_url=sandbox.webhook_url) as c:
        assert operating(c.post("crm.deal.list", json={"start": 0})) == pytest.approx(0.05)


def test_request_delay_applies_to_every_answer(make_sandbox: Callable[..., Sandbox]) -> None:
    sandbox = make_sandbox(costs=Costs(request=0.3))
    with httpx.Client(base_url=sandbox.webhook_url, timeout=30) as c:
        seconds, answer = timed(lambda: c.post("server.time"))
        assert answer.status_code == 200
        assert seconds >= 0.3
        seconds, answer = timed(lambda: c.post("no.such.method"))
        assert answer.status_code == 404
        assert seconds >= 0.3
    with httpx.Client(timeout=30) as c:  # the control API is not the portal: no delay to count on there
        assert c.get(sandbox.control_url + "costs").json()["result"]["request"] == 0.3


def test_page_cost_per_page_and_per_page_inside_a_batch(make_sandbox: Callable[..., Sandbox]) -> None:
    sandbox = make_sandbox(costs=Costs(page=0.2))
    with httpx.Client(base_url=sandbox.webhook_url, timeout=30) as c:
        seconds, answer = timed(lambda: c.post("crm.deal.list", json={"start": -1}))
        assert answer.status_code == 200
        assert seconds >= 0.2
        assert operating(answer) == pytest.approx(0.05 + 0.2)  # the page's work is operating time too
        seconds, _ = timed(lambda: c.post("server.time"))
        assert seconds < 0.2  # not a list: no page cost
        cmd = {f"p{i}": f"crm.deal.list?start=-1&filter[>ID]={i * 50}" for i in range(3)}
        seconds, answer = timed(lambda: c.post("batch", json={"cmd": cmd}))
        assert answer.status_code == 200
        assert seconds >= 0.6
        assert len(answer.json()["result"]["result"]) == 3
    with httpx.Client(base_url=f"{sandbox.base_url}/rest/api/1/{sandbox.secret}/", timeout=30) as v3:
        seconds, answer = timed(lambda: v3.post("tasks.task.list", json={}))
        assert answer.status_code == 200
        assert seconds >= 0.2


def test_count_cost_per_matching_row_only_when_start_is_not_minus_one(make_sandbox: Callable[..., Sandbox]) -> None:
    per_row = 0.0005
    sandbox = make_sandbox(deals=1000, costs=Costs(counted_row=per_row))
    with httpx.Client(base_url=sandbox.webhook_url, timeout=30) as c:
        seconds, answer = timed(lambda: c.post("crm.deal.list", json={"start": 0}))
        assert answer.json()["total"] == 1000
        assert seconds >= 1000 * per_row
        assert operating(answer) == pytest.approx(0.05 + 1000 * per_row)
        seconds, answer = timed(lambda: c.post("crm.deal.list", json={"start": 950}))
        assert answer.json()["total"] == 1000
        assert seconds >= 1000 * per_row
        before = operating(answer)
        answer = c.post("crm.deal.list", json={"start": -1})
        assert "total" not in answer.json()
        assert operating(answer) == pytest.approx(before + 0.05)  # nothing counted
        # Only the rows the filter matches are counted.
        answer = c.post("crm.deal.list", json={"start": 0, "filter": {">ID": 800}})
        assert answer.json()["total"] == 200
        assert operating(answer) == pytest.approx(before + 0.05 + 0.05 + 200 * per_row)
        cmd = {f"p{i}": f"crm.deal.list?start={i * 50}" for i in range(2)}
        seconds, answer = timed(lambda: c.post("batch", json={"cmd": cmd}))
        assert answer.json()["result"]["result_total"] == {"p0": 1000, "p1": 1000}
        assert seconds >= 2 * 1000 * per_row  # each page inside the batch counts


def test_concurrent_requests_are_served_concurrently(make_sandbox: Callable[..., Sandbox]) -> None:
    sandbox = make_sandbox(costs=Costs(request=0.3, page=0.1))
    answers: list[int] = []

    def one() -> None:
        with httpx.Client(base_url=sandbox.webhook_url, timeout=30) as c:
            answers.append(c.post("crm.deal.list", json={"start": -1}).status_code)

    threads = [threading.Thread(target=one) for _ in range(3)]
    started = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    seconds = time.perf_counter() - started
    assert answers == [200, 200, 200]
    assert 0.4 <= seconds < 1.0  # one after another would take at least 1.2 s


def test_data_stays_consistent_under_concurrent_delayed_writes(make_sandbox: Callable[..., Sandbox]) -> None:
    sandbox = make_sandbox(deals=10, costs=Costs(request=0.05))
    made: list[Any] = []
    lock = threading.Lock()

    def add(n: int) -> None:
        with httpx.Client(base_url=sandbox.webhook_url, timeout=30) as c:
            for i in range(5):
                answer = c.post("crm.deal.add", json={"fields": {"TITLE": f"w{n}-{i}"}})
                with lock:
                    made.append(answer.json()["result"])

    threads = [threading.Thread(target=add, args=(n,)) for n in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(made) == 40
    assert len(set(made)) == 40
    assert len(sandbox.store.deals) == 50
    titles = {sandbox.store.deals.rows[int(i)]["TITLE"] for i in made}
    assert titles == {f"w{n}-{i}" for n in range(8) for i in range(5)}


def test_rate_limit_still_applies_with_costs(make_sandbox: Callable[..., Sandbox]) -> None:
    sandbox = make_sandbox(plan="standard", clock=FakeClock(), costs=Costs(request=0.005))
    with httpx.Client(base_url=sandbox.webhook_url, timeout=30) as c:
        assert all(c.post("server.time").status_code == 200 for _ in range(50))
        seconds, refused = timed(lambda: c.post("server.time"))
        assert refused.status_code == 503
        assert refused.json()["error"] == "QUERY_LIMIT_EXCEEDED"
        assert seconds >= 0.005  # a refusal travels the network too


def test_page_work_counts_towards_the_operating_limit(make_sandbox: Callable[..., Sandbox]) -> None:
    sandbox = make_sandbox(clock=FakeClock(), operating_limit=0.5, costs=Costs(page=0.2))
    with httpx.Client(base_url=sandbox.webhook_url, timeout=30) as c:
        for _ in range(2):  # 0.05 s of the method's own cost + 0.2 s of page work each
            assert c.post("crm.deal.list", json={"start": -1}).status_code == 200
        blocked = c.post("crm.deal.list", json={"start": -1})
        assert blocked.status_code == 429
        assert blocked.json()["error"] == "OPERATION_TIME_LIMIT"


def test_costs_change_while_serving(make_sandbox: Callable[..., Sandbox]) -> None:
    sandbox = make_sandbox()
    with httpx.Client(base_url=sandbox.control_url, timeout=30) as control, \
            httpx.Client(base_url=sandbox.webhook_url, timeout=30) as c:
        assert control.post("costs", json={"request": 0.25}).json()["result"] == {
            "request": 0.25, "page": 0.0, "counted_row": 0.0}
        assert control.post("costs", json={"page": 0.01}).json()["result"]["request"] == 0.25  # kept
        seconds, _ = timed(lambda: c.post("server.time"))
        assert seconds >= 0.25
        bad = control.post("costs", json={"request": -1})
        assert bad.status_code == 400
        assert "at least 0" in bad.json()["error_description"]
        bad = control.post("costs", json={"latency": 1})
        assert bad.status_code == 400
        assert "unknown cost" in bad.json()["error_description"]
        assert sandbox.costs == Costs(request=0.25, page=0.01)  # a bad request changed nothing
        control.post("reset")
        assert sandbox.costs.request == 0.25  # reset clears test state, not the portal's pace
        assert control.delete("costs").json()["result"]["request"] == 0.0
    sandbox.costs = Costs(counted_row=1e-6)
    assert sandbox.portal.costs.counted_row == 1e-6


@pytest.mark.parametrize("bad", [{"request": float("nan")}, {"page": "fast"}, {"counted_row": True}, []])
def test_bad_costs_are_refused(bad: Any) -> None:
    with pytest.raises(ValueError):
        Costs.from_dict(bad) if isinstance(bad, list) else Costs(**bad)


def test_cli_flags_set_the_costs() -> None:
    proc = start_cli("--deals", "20", "--request-delay-ms", "100", "--page-cost-ms", "20", "--count-cost-us", "21")
    try:
        assert proc.stdout is not None
        url = proc.stdout.readline().strip().split(" ", 1)[1]
        secret = url.rstrip("/").rsplit("/", 1)[1]
        base = url.split("/rest/", 1)[0]
        costs = httpx.get(f"{base}/_sandbox/{secret}/costs", timeout=30).json()["result"]
        assert costs == {"request": 0.1, "page": 0.02, "counted_row": pytest.approx(21e-6)}
    finally:
        proc.send_signal(signal.SIGINT)
        proc.wait(timeout=10)


def test_cli_refuses_negative_costs(capsys: pytest.CaptureFixture[str]) -> None:
    from b24explorer.cli import main

    assert main(["sandbox", "--request-delay-ms", "-5"]) == 2
    assert "must be a finite number of seconds" in capsys.readouterr().err
