"""`b24x list` against a sandbox at a real portal's pace (a delay per request, query time per page, the COUNT
behind `total`): every id arrives exactly once, within the standard plan's limits — a list long enough to go on
in id windows walked at once."""

from __future__ import annotations

import json
from typing import Any

import pytest

from b24explorer.cli import main
from b24explorer.core.list_windows import WINDOW_AFTER_ROWS
from b24explorer.sandbox import Costs


def test_list_at_a_portals_pace_gets_every_id_exactly_once(
    make_sandbox: Any, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    paced = make_sandbox(deals=16_000, plan="standard", costs=Costs(request=0.05, page=0.002, counted_row=20e-6))
    monkeypatch.setenv("B24X_WEBHOOK", paced.webhook_url)
    code = main(["list", "crm.deal.list", "--params", '{"select": ["ID", "TITLE"]}'])
    out, err = capsys.readouterr()
    assert code == 0, err
    ids = [int(json.loads(line)["ID"]) for line in out.splitlines()]
    assert len(ids) == len(set(ids))
    assert sorted(ids) == paced.store.deals.ids
    assert ids == paced.store.deals.ids  # in ascending order, across the windows
    assert len(ids) > WINDOW_AFTER_ROWS
    assert paced.counters.requests("crm.deal.list") == 2  # the first page and the last id: it went on in windows
    assert "error" not in err.lower()
