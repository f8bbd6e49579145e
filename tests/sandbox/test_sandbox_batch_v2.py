"""REST v2 batch: limits, order, halt, $result substitution, result_* maps, nested batch refused."""

from __future__ import annotations

from collections.abc import Callable

import httpx

from b24explorer.sandbox import Sandbox


def run(http: httpx.Client, cmd: dict | list, halt: int | bool = 0) -> dict:
    r = http.post("batch", json={"cmd": cmd, "halt": halt})
    assert r.status_code == 200, r.text
    return r.json()["result"]


def test_empty_maps_are_php_empty_arrays(http: httpx.Client) -> None:
    out = run(http, {"t": "server.time"})
    assert out["result_error"] == []
    assert out["result_total"] == []
    assert out["result_next"] == []
    assert isinstance(out["result"]["t"], str)
    assert set(out["result_time"]["t"]) >= {"start", "finish", "duration", "operating", "operating_reset_at"}
    empty = run(http, {})
    assert empty == {"result": [], "result_error": [], "result_total": [], "result_next": [], "result_time": []}


def test_list_totals_and_next_per_command(http: httpx.Client, sb: Sandbox) -> None:
    out = run(http, {"p0": "crm.deal.list?select[]=ID", "p1": "crm.deal.list?select[]=ID&start=50",
                     "fast": "crm.deal.list?select[]=ID&start=-1"})
    n = len(sb.store.deals)
    assert out["result_total"] == {"p0": n, "p1": n}
    assert out["result_next"] == {"p0": 50, "p1": 100}
    assert [int(d["ID"]) for d in out["result"]["p1"]] == sb.store.deals.ids[50:100]


def test_substitution_and_missing_reference(http: httpx.Client, sb: Sandbox) -> None:
    out = run(http, {
        "me": "user.current",
        "dep": "department.get?ID=$result[me][UF_DEPARTMENT][0]",
        "first": "crm.deal.list?select[]=ID&order[ID]=ASC&start=-1",
        "after": "crm.deal.list?select[]=ID&order[ID]=ASC&start=-1&filter[>ID]=$result[first][49][ID]",
        "encoded": "crm.deal.list?select%5B0%5D=ID&filter%5B%3EID%5D=%24result%5Bafter%5D%5B49%5D%5BID%5D&start=-1",
        "ghost": "crm.deal.list?select[]=ID&start=-1&filter[>ID]=$result[nowhere][49][ID]",
        "past_end": "crm.deal.get?id=$result[first][500][ID]",
    })
    assert out["result"]["dep"][0]["ID"] == "1"
    assert next(d["ID"] for d in out["result"]["after"]) == "51"
    assert next(d["ID"] for d in out["result"]["encoded"]) == "101"
    # a reference to nothing substitutes the deepest part that resolves (here every answer so far): the SQL
    # reads each answer in it as 1, so the page starts again near the first deal
    assert out["result"]["ghost"][0]["ID"] == "2"
    assert out["result_error"]["past_end"]["error_description"] == "ID is not defined or invalid."


def test_halt_stops_at_first_error(http: httpx.Client) -> None:
    cmd = {"a": "crm.deal.get?id=1", "bad": "crm.deal.get?id=999999", "c": "crm.deal.get?id=2"}
    kept_going = run(http, cmd, halt=0)
    assert set(kept_going["result"]) == {"a", "c"}
    assert set(kept_going["result_error"]) == {"bad"}
    halted = run(http, cmd, halt=1)
    assert set(halted["result"]) == {"a"}
    assert set(halted["result_error"]) == {"bad"}
    assert "c" not in halted["result_time"]


def test_commands_run_in_order(make_sandbox: Callable[..., Sandbox]) -> None:
    sandbox = make_sandbox(deals=5)
    with httpx.Client(base_url=sandbox.webhook_url) as c:
        out = run(c, {"add": "crm.deal.add?fields[TITLE]=Ordered",
                      "get": "crm.deal.get?id=$result[add]",
                      "upd": "crm.deal.update?id=$result[add]&fields[TITLE]=Changed",
                      "again": "crm.deal.get?id=$result[add]"})
    assert out["result"]["get"]["TITLE"] == "Ordered"
    assert out["result"]["again"]["TITLE"] == "Changed"
    assert sandbox.counters.requests("batch") == 1
    assert sandbox.counters.requests() == 1
    assert sandbox.counters.writes() == 2
    assert sandbox.counters.calls("crm.deal.get") == 2


def test_fifty_commands_max(http: httpx.Client) -> None:
    ok = run(http, {f"c{i}": "server.time" for i in range(50)})
    assert len(ok["result"]) == 50
    # a portal runs the first 50 and refuses each extra command inside an HTTP 200 answer
    over = run(http, {f"c{i}": "server.time" for i in range(52)})
    assert len(over["result"]) == 50
    assert set(over["result_error"]) == {"c50", "c51"}
    assert over["result_error"]["c51"]["error"] == "ERROR_BATCH_LENGTH_EXCEEDED"


def test_nested_batch_and_unknown_method_refused_per_command(http: httpx.Client) -> None:
    out = run(http, {"inner": "batch?cmd[x]=server.time", "nope": "no.such.method", "ok": "server.time"})
    assert out["result_error"]["inner"]["error"] == "ERROR_BATCH_METHOD_NOT_ALLOWED"
    assert out["result_error"]["nope"]["error"] == "ERROR_METHOD_NOT_FOUND"
    assert "ok" in out["result"]


def test_numeric_keys_give_lists_and_mixed_case_methods(http: httpx.Client) -> None:
    out = run(http, ["crm.deal.get?id=1", "CRM.Deal.Get?id=2"])
    assert isinstance(out["result"], list)
    assert [d["ID"] for d in out["result"]] == ["1", "2"]


def test_batch_over_form_body_double_encoded(http: httpx.Client) -> None:
    r = http.post("batch", data={"halt": "0", "cmd[a]": "crm.deal.list?filter[>ID]=3&select[]=ID&start=-1",
                                 "cmd[b]": "crm.lead.add?fields[TITLE]=John%26Martin"})
    out = r.json()["result"]
    assert out["result"]["a"][0]["ID"] == "4"
    assert isinstance(out["result"]["b"], int)


def test_batch_inner_scope_errors(sb: Sandbox) -> None:
    url = sb.add_webhook(scopes=["crm"])
    with httpx.Client(base_url=url) as c:
        out = run(c, {"me": "user.current", "deal": "crm.deal.get?id=1"})
    assert out["result_error"]["me"]["error"] == "insufficient_scope"
    assert out["result"]["deal"]["ID"] == "1"


def test_batch_of_fifty_pages_is_2500_deals(make_sandbox: Callable[..., Sandbox]) -> None:
    sandbox = make_sandbox(deals=2600)
    with httpx.Client(base_url=sandbox.webhook_url) as c:
        out = run(c, {f"p{i}": f"crm.deal.list?start={i * 50}" for i in range(50)})
    got = [int(d["ID"]) for i in range(50) for d in out["result"][f"p{i}"]]
    assert got == sandbox.store.deals.ids[:2500]
