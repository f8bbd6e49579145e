"""`b24x sandbox` as a process, and deterministic seeding."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

import httpx
import pytest

from b24explorer.cli import main
from b24explorer.sandbox import Sandbox

ROOT = Path(__file__).resolve().parents[2]


def start_cli(*args: str) -> subprocess.Popen[str]:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    return subprocess.Popen([sys.executable, "-m", "b24explorer.cli", "sandbox", *args], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, env=env, cwd=ROOT)


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM])
def test_cli_prints_webhook_first_and_exits_cleanly(sig: signal.Signals) -> None:
    proc = start_cli("--deals", "120", "--seed", "7", "--plan", "enterprise",
                     "--fault", "status:crm.deal.get,count=1,status=503,code=QUERY_LIMIT_EXCEEDED")
    try:
        assert proc.stdout is not None
        first = proc.stdout.readline().strip()
        assert first.startswith("WEBHOOK http://127.0.0.1:")
        url = first.split(" ", 1)[1]
        assert url.endswith("/")
        assert "/rest/1/" in url
        with httpx.Client(base_url=url) as c:
            assert c.post("crm.deal.list").json()["total"] == 120
            assert c.post("crm.deal.get", json={"id": 1}).status_code == 503
            assert c.post("crm.deal.get", json={"id": 1}).status_code == 200
        proc.send_signal(sig)
        assert proc.wait(timeout=10) == 0
        assert proc.stderr is not None
        assert "Traceback" not in proc.stderr.read()
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()


@pytest.mark.parametrize(("args", "message"), [
    (["--host", "0.0.0.0"], "loopback"),
    (["--fault", "meteor"], "unknown fault kind"),
    (["--plan", "gold"], "invalid choice"),
    (["--port", "70000"], "--port"),
])
def test_cli_bad_arguments(capsys: pytest.CaptureFixture[str], args: list[str], message: str) -> None:
    try:
        code = main(["sandbox", *args])
    except SystemExit as exc:  # argparse refuses choices itself
        code = int(exc.code or 0)
    assert code == 2
    assert message in capsys.readouterr().err


def test_same_seed_same_portal() -> None:
    a = Sandbox(seed=5, deals=300)
    b = Sandbox(seed=5, deals=300)
    c = Sandbox(seed=6, deals=300)
    for name in ("deals", "leads", "contacts", "companies", "tasks", "eventlog", "users", "departments"):
        assert list(getattr(a.store, name)) == list(getattr(b.store, name))
    assert list(a.store.deals) != list(c.store.deals)
    assert a.secret != b.secret  # secrets are random; data is not


def test_counts_are_configurable() -> None:
    s = Sandbox(seed=1, deals=7, leads=3, contacts=4, companies=2, tasks=5, events=6)
    assert [len(t) for t in (s.store.deals, s.store.leads, s.store.contacts, s.store.companies, s.store.tasks,
                             s.store.eventlog)] == [7, 3, 4, 2, 5, 6]
    assert Sandbox(deals=0).store.deals.ids == []


def test_page_size_override_for_big_answers(make_sandbox) -> None:  # type: ignore[no-untyped-def]
    sandbox = make_sandbox(deals=1200, page_size=1000)
    with httpx.Client(base_url=sandbox.webhook_url) as c:
        body = c.post("crm.deal.list").json()
    assert len(body["result"]) == 1000
    assert body["next"] == 1000
