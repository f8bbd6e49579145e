"""REST v2 batch as a portal's PHP answers it: integer labels, unresolvable references, billing to `batch`."""

from __future__ import annotations

from collections.abc import Callable

import httpx

from b24explorer.sandbox import Sandbox


def run(http: httpx.Client, cmd: dict | list, halt: int = 0) -> dict:
    r = http.post("batch", json={"cmd": cmd, "halt": halt})
    assert r.status_code == 200, r.text
    return r.json()["result"]


def test_labels_0_1_given_as_an_object_come_back_as_arrays(http: httpx.Client) -> None:
    out = run(http, {"0": "crm.deal.get?id=1", "1": "crm.deal.get?id=2"})
    assert [d["ID"] for d in out["result"]] == ["1", "2"]
    assert out["result_error"] == []
    assert isinstance(out["result_time"], list)
    assert len(out["result_time"]) == 2


def test_integer_labels_with_an_error_keep_their_keys(http: httpx.Client) -> None:
    out = run(http, {"0": "crm.deal.get?id=1", "1": "crm.deal.get?id=999999", "2": "crm.deal.get?id=2"})
    assert out["result"] == {"0": out["result"]["0"], "2": out["result"]["2"]}  # keys 0, 2: not 0..n-1
    assert out["result_error"] == {"1": out["result_error"]["1"]}


def test_unresolvable_reference_takes_the_deepest_part_and_array_in_text(http: httpx.Client) -> None:
    out = run(http, {
        "short": "crm.deal.list?select[]=ID&order[ID]=ASC&start=-1&filter[<ID]=4",
        "past": "crm.deal.list?select[]=ID&order[ID]=ASC&start=-1&filter[>ID]=$result[short][49][ID]",
        "text": "crm.deal.list?select[]=ID&start=-1&filter[%TITLE]=x$result[short][49][ID]y",
        "resolved": "crm.deal.list?select[]=ID&order[ID]=ASC&start=-1&filter[>ID]=$result[short][2][ID]",
    })
    assert [d["ID"] for d in out["result"]["short"]] == ["1", "2", "3"]
    # `$result[short][49][ID]` became the whole short page: its rows count as 1 in the SQL, so `ID > 1`
    assert [d["ID"] for d in out["result"]["past"]][:2] == ["2", "3"]
    assert out["result"]["text"] == []  # TITLE contains "xArrayy": nothing matches
    assert out["result"]["resolved"][0]["ID"] == "4"


def test_batch_is_billed_to_batch_with_a_running_total(make_sandbox: Callable[..., Sandbox]) -> None:
    sb = make_sandbox(deals=200, plan="unlimited", operating_limit=480.0)
    with httpx.Client(base_url=sb.webhook_url) as c:
        body = c.post("batch", json={"cmd": [f"crm.deal.list?start=-1&filter[>ID]={i * 50}" for i in range(3)]})
        envelope = body.json()
        alone = c.post("crm.deal.list", json={"start": -1}).json()
    times = envelope["result"]["result_time"]
    running = [t["operating"] for t in times]
    assert running == sorted(running)
    assert running[0] > 0
    assert envelope["time"]["operating"] >= running[-1]
    # the list method itself was not charged by the batch: its first own call starts from its own cost
    assert alone["time"]["operating"] < running[-1]
