"""The shipped reference catalog: where it is, that it loads lazily, what it holds and what it costs."""

from __future__ import annotations

import gzip
import json
import subprocess
import sys
import tracemalloc
from pathlib import Path

import pytest

from b24explorer.core import reference
from b24explorer.core.reference import ReferenceCatalogError, catalog_path, load_catalog

ROOT = Path(__file__).resolve().parents[2]
SHIPPED = ROOT / "resources" / "reference" / reference.CATALOG_FILE


def test_the_catalog_ships_in_resources_with_the_docs_license() -> None:
    assert catalog_path() == SHIPPED
    assert SHIPPED.stat().st_size < 150_000  # compressed; the picker must not weigh on the download
    license_text = (SHIPPED.parent / "LICENSE-b24restdocs.txt").read_text(encoding="utf-8")
    assert "MIT License" in license_text
    assert "bitrix24/b24restdocs" in license_text


def test_nothing_is_read_at_import() -> None:
    code = (
        "import sys\n"
        "opened = []\n"
        "sys.addaudithook(lambda event, args: opened.append(event) if event == 'open' and "
        f"str(args[0]).endswith({reference.CATALOG_FILE!r}) else None)\n"
        "import b24explorer.core.reference as r, b24explorer.core.precheck\n"
        "print(len(opened), r.is_loaded())\n"
        "r.reference_catalog()\n"
        "print(len(opened), r.is_loaded())\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=ROOT)
    assert out.stdout.split("\n")[:2] == ["0 False", "1 True"]


def test_loaded_once_and_shared(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(reference, "_loaded", None)
    first = reference.reference_catalog()
    assert reference.is_loaded()
    assert reference.reference_catalog() is first


def test_every_documented_method_with_version_scope_and_params() -> None:
    catalog = load_catalog(SHIPPED)
    # the docs hold about 1,565 v2 and 106 v3 method pages
    assert 1500 <= catalog.count(2) <= 1700
    assert 100 <= catalog.count(3) <= 150
    assert len(catalog) == catalog.count(2) + catalog.count(3)
    names = [(m.name.lower(), m.api) for m in catalog]
    assert len(names) == len(set(names))
    for m in catalog:
        assert m.doc.endswith(".md"), m.name
        assert m.api in (2, 3), m.name
    deal_list = catalog.get("crm.deal.list", 2)
    assert deal_list is not None
    assert deal_list.scopes == ("crm",)
    assert [p.name for p in deal_list.params] == ["select", "filter", "order", "start"]
    assert deal_list.deprecated
    assert deal_list.replacement == "crm.item.list"
    item_update = catalog.get("crm.item.update")
    assert item_update is not None
    assert {"entityTypeId", "id", "fields"} <= {p.name for p in item_update.required}
    rows = catalog.get("crm.item.productrow.set")
    assert rows is not None
    assert "productId" in {p.name for p in rows.nested("productRows")}
    v3_get = catalog.get("tasks.task.get", 3)
    assert v3_get is not None
    assert v3_get.twin == "tasks.task.get"
    assert catalog.get("tasks.task.get", 2).twin == "tasks.task.get"  # type: ignore[union-attr]
    bind = catalog.get("placement.bind")
    assert bind is not None
    assert bind.app_context
    assert bind.admin
    assert "crm" in catalog.scopes()
    assert "task" in catalog.scopes()
    assert next(m.name for m in catalog.search("crm.deal.list")) == "crm.deal.list"
    assert all(m.api == 3 for m in catalog.search("humanresources.node", api=3))
    assert all("crm" in m.scopes for m in catalog.in_scope("crm"))


def test_its_memory_stays_within_a_few_megabytes() -> None:
    tracemalloc.start()
    try:
        catalog = load_catalog(SHIPPED)
        kept, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert len(catalog) > 1600
    assert kept < 4_000_000, kept
    assert peak < 10_000_000, peak


@pytest.mark.parametrize(
    "content",
    [b"", b"not gzip", gzip.compress(b"{not json"), gzip.compress(b"[]"),
     gzip.compress(json.dumps({"format": 99, "methods": []}).encode()),
     gzip.compress(json.dumps({"format": 1, "methods": [{"api": 2}]}).encode())],
)
def test_a_broken_file_is_a_clear_error(tmp_path: Path, content: bytes) -> None:
    path = tmp_path / reference.CATALOG_FILE
    path.write_bytes(content)
    with pytest.raises(ReferenceCatalogError, match="reference catalog"):
        load_catalog(path)


def test_a_missing_catalog_is_a_clear_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(reference, "_loaded", None)
    monkeypatch.setattr(reference, "catalog_path", lambda: None)
    with pytest.raises(ReferenceCatalogError, match="not installed"):
        reference.reference_catalog()


@pytest.mark.parametrize(
    ("method", "api", "template"),
    [
        # v3 requires the creator: the template names it (v2 makes the caller the creator)
        ("tasks.task.add", 3, {"fields": {"title": "", "creatorId": 0, "responsibleId": 0}}),
        ("crm.deal.update", 2, {"id": 0, "fields": {}}),  # the record to change, though the docs call it optional
        ("crm.item.add", 2, {"entityTypeId": 0, "fields": {}}),
        ("im.message.add", 2, {"DIALOG_ID": "", "MESSAGE": ""}),
        ("disk.folder.uploadfile", 2, {"id": 0, "data": []}),
        ("user.get", 2, {}),  # nothing required: no template
    ],
)
def test_a_template_holds_the_documented_required_params(method: str, api: int, template: dict) -> None:
    documented = load_catalog(SHIPPED).get(method, api)
    assert documented is not None
    assert documented.template() == template


@pytest.mark.parametrize(
    ("kind", "value"),
    [("integer", 0), ("double", 0), ("user", 0), ("sale_order_payment.id", 0), ("string", ""), ("crm_status", ""),
     ("datetime", ""), ("", ""), ("boolean", False), ("array", []), ("string[]", []), ("object", {})],
)
def test_placeholders_follow_the_documented_type(kind: str, value: object) -> None:
    assert reference.placeholder(kind) == value
    assert type(reference.placeholder(kind)) is type(value)
