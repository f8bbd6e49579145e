"""The diff and the table on a 100,000-deal crm.deal.list answer fetched from the sandbox over loopback HTTP."""

from __future__ import annotations

import csv
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from b24explorer.core import jsondoc
from b24explorer.core.jsondiff import JsonDiff, RecordKey
from b24explorer.core.records import RecordTable, cell_text

pytestmark = pytest.mark.slow

DEALS = 100_000
FIELDS = ["ID", "TITLE", "STAGE_ID", "CURRENCY_ID", "OPPORTUNITY", "COMPANY_ID", "CONTACT_ID", "CLOSEDATE",
          "COMMENTS", "DATE_MODIFY"]


class Answers:
    def __init__(self, before: bytes, after: bytes, added_id: str) -> None:
        self.before = before
        self.after = after
        self.added_id = added_id


@pytest.fixture(scope="module")
def answers() -> Iterator[Answers]:
    from b24explorer.sandbox import Sandbox

    with Sandbox(seed=1, deals=DEALS, plan="unlimited", page_size=DEALS, leads=0, contacts=0, companies=0,
                 tasks=0, events=0) as sandbox:
        def call(method: str, params: dict[str, Any]) -> httpx.Response:
            response = httpx.post(sandbox.webhook_url + method, json=params, timeout=300)
            response.raise_for_status()
            return response

        before = call("crm.deal.list", {"select": FIELDS}).content
        call("crm.deal.update", {"id": 500, "fields": {"TITLE": "Renamed", "OPPORTUNITY": 1}})
        call("crm.deal.delete", {"id": 70_000})
        added = call("crm.deal.add", {"fields": {"TITLE": "Brand new"}}).json()["result"]
        after = call("crm.deal.list", {"select": FIELDS}).content
        yield Answers(before, after, str(added))


def test_the_diff_finds_the_changed_the_removed_and_the_added_deal(answers: Answers) -> None:
    differ = JsonDiff(answers.before, answers.after)
    job = differ.job()
    slices = 1
    while not job.step(0.010):
        slices += 1
    summary = job.result
    assert slices > 10  # the work was cut into slices a window can interleave with painting
    result_rows = [r for r in differ.rows if r.path[0] == "result"]
    by_path = {(r.path_text, r.kind): r for r in result_rows}
    assert by_path[("$.result[ID=500].TITLE", "changed")].right == "Renamed"
    assert by_path[("$.result[ID=500].OPPORTUNITY", "changed")].left != "1.00"
    assert by_path[("$.result[ID=70000]", "removed")].left["ID"] == "70000"
    added = by_path[(f"$.result[ID={answers.added_id}]", "added")]
    assert added.right["TITLE"] == "Brand new"
    assert added.right_pointer == f"/result/{DEALS - 1}"
    assert {r.path[1] for r in result_rows} == {
        RecordKey("ID", "500"), RecordKey("ID", "70000"), RecordKey("ID", answers.added_id)
    }
    assert (summary.added, summary.removed) == (1, 1)
    assert all(r.path[0] in ("result", "time") for r in differ.rows)


def test_the_table_shows_sorts_and_exports_every_deal(answers: Answers, tmp_path: Path) -> None:
    expected = json.loads(answers.before)["result"]
    table = RecordTable(jsondoc.parse(answers.before).get("result"))
    assert len(table) == DEALS
    assert table.columns == FIELDS
    assert table.row(DEALS - 1) == [expected[-1][f] for f in FIELDS]

    job = table.sort_job("OPPORTUNITY", descending=True)
    while not job.step(0.010):
        pass
    by_amount = sorted(expected, key=lambda d: float(d["OPPORTUNITY"]), reverse=True)
    assert [table.cell(i, "ID") for i in range(0, DEALS, 997)] == [d["ID"] for d in by_amount[::997]]

    csv_path, ndjson_path = tmp_path / "deals.csv", tmp_path / "deals.ndjson"
    for job in (table.export_csv(csv_path), table.export_ndjson(ndjson_path)):
        while not job.step(0.010):
            pass
        assert job.result == DEALS
    with csv_path.open(newline="", encoding="utf-8") as fh:
        rows = csv.reader(fh)
        assert next(rows) == FIELDS
        assert all(row == [cell_text(d[f]) for f in FIELDS] for row, d in zip(rows, by_amount, strict=True))
    with ndjson_path.open("rb") as fh:
        assert all(json.loads(line) == d for line, d in zip(fh, by_amount, strict=True))
