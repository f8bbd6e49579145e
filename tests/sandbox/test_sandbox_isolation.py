"""The sandbox is standard library only and imports nothing else of b24explorer (it judges core independently)."""

from __future__ import annotations

import ast
import sys
from pathlib import Path

import b24explorer.sandbox

PACKAGE = Path(b24explorer.sandbox.__file__).parent


def test_sandbox_imports_only_stdlib_and_itself() -> None:
    files = sorted(PACKAGE.glob("*.py"))
    assert len(files) > 5
    for path in files:
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom):
                if node.level:
                    assert node.level == 1, f"{path.name} reaches outside the sandbox package"
                    continue
                names = [node.module or ""]
            elif isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            else:
                continue
            for name in names:
                top = name.split(".")[0]
                assert top in sys.stdlib_module_names or top == "__future__", f"{path.name} imports {name}"


def test_restore_data_undoes_writes_and_only_when_needed(make_sandbox) -> None:
    import httpx

    sandbox = make_sandbox(deals=30)
    assert sandbox.restore_data() is False  # nothing written yet: no re-seed
    answer = httpx.post(sandbox.webhook_url + "crm.deal.add", json={"fields": {"TITLE": "written by a test"}})
    new_id = answer.json()["result"]
    assert len(sandbox.store.deals.ids) == 31
    assert sandbox.restore_data() is True
    assert len(sandbox.store.deals.ids) == 30
    assert sandbox.store.deals.get(new_id) is None
    assert httpx.post(sandbox.webhook_url + "crm.deal.list", json={}).json()["total"] == 30
