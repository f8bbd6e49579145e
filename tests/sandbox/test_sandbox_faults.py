"""Fault injection by the Python API and the HTTP control API; counters of requests and writes."""

from __future__ import annotations

import json
import time

import httpx
import pytest

from b24explorer.sandbox import Sandbox
from b24explorer.sandbox.faults import FaultError, parse_spec


def test_status_fault_for_next_n_requests_of_one_method(http: httpx.Client, sb: Sandbox) -> None:
    sb.faults.add(kind="status", method="crm.deal.get", count=2, status=503, code="QUERY_LIMIT_EXCEEDED")
    assert http.post("profile").status_code == 200  # other methods untouched
    for _ in range(2):
        r = http.post("crm.deal.get", json={"id": 1})
        assert r.status_code == 503
        assert r.json() == {"error": "QUERY_LIMIT_EXCEEDED", "error_description": "Too many requests"}
    assert http.post("crm.deal.get", json={"id": 1}).status_code == 200
    assert sb.counters.requests("crm.deal.get") == 3
    assert sb.counters.requests() == 4


def test_global_fault_and_clear(http: httpx.Client, sb: Sandbox) -> None:
    sb.faults.add(kind="status", count=5, status=500, code="INTERNAL_SERVER_ERROR")
    assert http.post("profile").status_code == 500
    assert http.post("server.time").status_code == 500
    sb.faults.clear()
    assert http.post("profile").status_code == 200


def test_probability(http: httpx.Client, sb: Sandbox) -> None:
    sb.faults.add(kind="status", method="server.time", probability=1.0, status=502, code="X")
    assert all(http.post("server.time").status_code == 502 for _ in range(5))
    sb.faults.clear()
    sb.faults.add(kind="status", method="server.time", probability=0.0, status=502, code="X")
    assert all(http.post("server.time").status_code == 200 for _ in range(5))
    sb.faults.clear()
    sb.faults.add(kind="status", method="server.time", probability=0.5, status=502, code="X")
    statuses = [http.post("server.time").status_code for _ in range(60)]
    assert 0 < statuses.count(502) < 60


def test_html_page(http: httpx.Client, sb: Sandbox) -> None:
    sb.faults.add(kind="html", method="profile", status=502)
    r = http.post("profile")
    assert r.status_code == 502
    assert r.headers["content-type"].startswith("text/html")
    assert r.text.lstrip().startswith("<html>")


def test_truncated_json(http: httpx.Client, sb: Sandbox) -> None:
    sb.faults.add(kind="truncated", method="crm.deal.list")
    r = http.post("crm.deal.list")
    assert r.status_code == 200
    assert r.content.startswith(b'{"result":[')
    with pytest.raises(json.JSONDecodeError):
        json.loads(r.content)


def test_reset_before_handler_runs(sb: Sandbox) -> None:
    sb.faults.add(kind="reset_before", method="crm.lead.add")
    with httpx.Client(base_url=sb.webhook_url) as c, pytest.raises(httpx.TransportError):
        c.post("crm.lead.add", json={"fields": {"TITLE": "never stored"}})
    assert sb.counters.requests("crm.lead.add") == 1
    assert sb.counters.writes("crm.lead.add") == 0
    assert all(row["TITLE"] != "never stored" for row in sb.store.leads)


def test_reset_after_handler_ran(sb: Sandbox) -> None:
    sb.faults.add(kind="reset_after", method="crm.lead.add")
    with httpx.Client(base_url=sb.webhook_url) as c, pytest.raises(httpx.TransportError):
        c.post("crm.lead.add", json={"fields": {"TITLE": "stored anyway"}})
    assert sb.counters.writes("crm.lead.add") == 1
    stored = [row for row in sb.store.leads if row["TITLE"] == "stored anyway"]
    assert len(stored) == 1
    sb.store.leads.delete(int(stored[0]["ID"]))


def test_delay(http: httpx.Client, sb: Sandbox) -> None:
    sb.faults.add(kind="delay", method="profile", seconds=0.3)
    t0 = time.perf_counter()
    assert http.post("profile").status_code == 200
    assert time.perf_counter() - t0 >= 0.3
    sb.faults.add(kind="delay", method="profile", seconds=1.0)
    with pytest.raises(httpx.ReadTimeout):
        http.post("profile", timeout=0.2)


def test_redirect_to_another_host(http: httpx.Client, sb: Sandbox) -> None:
    sb.faults.add(kind="redirect", method="profile")
    r = http.post("profile")
    assert r.status_code == 302
    location = httpx.URL(r.headers["location"])
    assert location.host != "127.0.0.1"
    assert location.path.endswith("/profile")


def test_error_in_200(http: httpx.Client, sb: Sandbox) -> None:
    sb.faults.add(kind="error_in_200", method="profile", code="QUERY_LIMIT_EXCEEDED")
    r = http.post("profile")
    assert r.status_code == 200
    assert r.json() == {"error": "QUERY_LIMIT_EXCEEDED", "error_description": "Too many requests"}


def test_v3_faults_use_v3_envelope(sb: Sandbox) -> None:
    sb.faults.add(kind="status", method="tasks.task.get", status=400, code="BITRIX_REST_V3_EXCEPTION_X",
                  description="boom")
    with httpx.Client() as c:
        r = c.post(f"{sb.base_url}/rest/api/1/{sb.secret}/tasks.task.get", json={"id": 1})
    assert r.json() == {"error": {"code": "BITRIX_REST_V3_EXCEPTION_X", "message": "boom"}}


def test_http_control_api(sb: Sandbox) -> None:
    with httpx.Client(base_url=sb.control_url) as ctl, httpx.Client(base_url=sb.webhook_url) as c:
        made = ctl.post("faults", json={"kind": "status", "method": "profile", "count": 1, "status": 503,
                                        "code": "QUERY_LIMIT_EXCEEDED"})
        assert made.status_code == 200
        assert ctl.get("faults").json()["result"][0]["kind"] == "status"
        assert c.post("profile").status_code == 503
        assert c.post("profile").status_code == 200
        counters = ctl.get("counters").json()["result"]
        assert counters["requests"] == {"profile": 2}
        assert counters["total_writes"] == 0
        ctl.post("faults", json=[{"kind": "html", "method": "profile"}, {"kind": "delay", "seconds": 0}])
        assert ctl.delete("faults").json() == {"result": True}
        assert c.post("profile").status_code == 200
        bad = ctl.post("faults", json={"kind": "meteor"})
        assert bad.status_code == 400
        assert "unknown fault kind" in bad.json()["error_description"]
        assert ctl.post("faults", content=b"{nope").status_code == 400
        assert ctl.post("reset").json() == {"result": True}
        assert ctl.get("counters").json()["result"]["total_requests"] == 0
    with httpx.Client() as c:
        assert c.get(f"{sb.base_url}/_sandbox/wrong/counters").status_code == 401


def test_counters(http: httpx.Client, sb: Sandbox) -> None:
    http.post("crm.deal.get", json={"id": 1})
    http.post("batch", json={"cmd": {"a": "crm.deal.get?id=2", "b": "crm.lead.update?id=1&fields[COMMENTS]=c"}})
    assert sb.counters.requests() == 2
    assert sb.counters.requests("crm.deal.get") == 1
    assert sb.counters.requests("batch") == 1
    assert sb.counters.calls("crm.deal.get") == 2
    assert sb.counters.writes() == 1
    assert sb.counters.writes("crm.lead.update") == 1
    sb.counters.reset()
    assert sb.counters.requests() == 0


@pytest.mark.parametrize(("spec", "expected"), [
    ("status:crm.deal.get,count=2,status=503,code=QUERY_LIMIT_EXCEEDED",
     {"kind": "status", "method": "crm.deal.get", "count": 2, "status": 503, "code": "QUERY_LIMIT_EXCEEDED"}),
    ("delay,seconds=0.5,probability=0.1", {"kind": "delay", "method": None, "probability": 0.1, "seconds": 0.5}),
    ("reset_after:CRM.Deal.Add", {"kind": "reset_after", "method": "crm.deal.add", "count": 1}),
    ("html:*,status=504", {"kind": "html", "method": None, "status": 504}),
])
def test_fault_spec_syntax(spec: str, expected: dict) -> None:
    fault = parse_spec(spec).to_dict()
    assert {k: fault[k] for k in expected} == expected


@pytest.mark.parametrize("spec", ["meteor", "status,count=0", "status,probability=2", "status,colour=red",
                                  "status,count", "delay,seconds=-1"])
def test_bad_fault_specs(spec: str) -> None:
    with pytest.raises(FaultError):
        parse_spec(spec)
