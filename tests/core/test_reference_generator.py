"""The reference catalog's generator, run on a small docs tree written by the test."""

from __future__ import annotations

import gzip
import importlib.util
import json
import sys
from pathlib import Path
from types import ModuleType

import pytest

from b24explorer.core.reference import load_catalog

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def gen() -> ModuleType:
    spec = importlib.util.spec_from_file_location("gen_reference_catalog", ROOT / "scripts" / "gen_reference_catalog.py")
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


HEAD = """{% note tip "" %}

Connect to the MCP server.

{% endnote %}

"""

DEAL_UPDATE = f"""# Update Deal crm.deal.update

{HEAD}> Scope: [`crm`](../../scopes/permissions.md)
>
> Who can execute the method: any user with "edit" access permission for deals

{{% note warning "DEPRECATED" %}}

The development of this method has been halted. Please use [crm.item.update](../universal/crm-item-update.md).

{{% endnote %}}

The method `crm.deal.update` updates a deal.

## Method Parameters

{{% include [Note on required parameters](../../../_includes/required.md) %}}

#|
|| **Name**
`type` | **Description** ||
|| **id***
[`integer`](../../data-types.md) | Deal identifier ||
|| **fields**
[`object`](#parameter-fields) | Values of the fields:

#|
|| **Nested** | **Table** ||
|| **NOT_A_PARAM** | inside a cell ||
|#
||
|| **params**^*^
[`object`](../../data-types.md) | Extra options ||
|#

### Parameter fields {{#parameter-fields}}

#|
|| **Name**
`type` | **Description** ||
|| **TITLE**
[`string`](../../data-types.md) | Title ||
|| **STAGE_ID**
[`crm_status`](../../data-types.md) | Stage ||
|#

### Returned values {{#values}}

#|
|| **Name**
`type` | **Description** ||
|| **UNRELATED**
[`string`](../../data-types.md) | Not a nested field of any param ||
|#

## Code Examples

Call `crm.deal.update` with `crm.deal.update`.

## Response Handling

#|
|| **Name**
`type` | **Description** ||
|| **result**
[`boolean`](../../data-types.md) | Result ||
|#
"""

TASK_GET_V3 = f"""# Get a Task tasks.task.get

{HEAD}> Scope: [`task`](../scopes/permissions.md)
>
> Who can execute the method: administrator

{{% note info "" %}}

This method belongs to REST 3.0.

{{% endnote %}}

## Method Parameters

#|
|| **Name**
`type` | **Description** ||
|| **id***
[`integer`](../data-types.md) | Task identifier ||
|| **select**
[`array`](../data-types.md) | Fields ||
|#
"""

TASK_GET_V2 = f"""# Get a Task tasks.task.get

{HEAD}> Scope: [`task`](../scopes/permissions.md)
>
> Who can execute the method: any user

The method works only in the context of [application](../../settings/app-installation/index.md) authorization.

## Method Parameters

#|
|| **Name**
`type` | **Description** ||
|| **taskId***
[`integer`](../data-types.md) | Task identifier ||
|#
"""

# A title typo: the page calls the method by its real name throughout.
TRIGGER_DELETE = f"""# Delete Trigger ctrigger.delete

{HEAD}> Scope: [`crm`](../../../scopes/permissions.md)
>
> Who can execute the method: administrator with access to CRM in the application context

The method `crm.automation.trigger.delete` deletes a trigger. See crm.automation.trigger.delete.

#|
|| **Name** | **Description** ||
|| **CODE*** | Trigger code ||
|#

## Code Examples

`crm.automation.trigger.delete`
"""

EVENT = f"""# Event onCrmDealAdd

{HEAD}> Scope: [`crm`](../../../scopes/permissions.md)
>
> Who can subscribe: any user
"""

COMMAND = f"""# Get Placement Information placement.info

{HEAD}> Who can execute the command: any user
"""

OVERVIEW = """# Deals: Overview of Methods

> Scope: [`crm`](../../scopes/permissions.md)

[crm.deal.update](./crm-deal-update.md)
"""

ONE_WORD = f"""# Get a List of Available Permissions

{HEAD}> Scope: [`basic`](../../scopes/permissions.md)
>
> Who can execute the method: any user

The method `scope` returns the list of permissions.

## Method Parameters

#|
|| **Name**
`type` | **Description** ||
|| **full**
[`boolean`](../../data-types.md) | All permissions ||
|#
"""

LICENSE = "MIT License\n\nCopyright (c) 2024 Bitrix24\n"


def make_docs(root: Path) -> Path:
    pages = {
        "api-reference/crm/deals/crm-deal-update.md": DEAL_UPDATE,
        "api-reference/crm/deals/index.md": OVERVIEW,
        "api-reference/crm/deals/events/on-crm-deal-add.md": EVENT,
        "api-reference/tasks/tasks-task-get.md": TASK_GET_V2,
        "api-reference/tasks/tasks-task-get-rest-v3.md": TASK_GET_V3,
        "api-reference/crm/automation/triggers/crm-automation-trigger-delete.md": TRIGGER_DELETE,
        "api-reference/widgets/ui-interaction/bx24-placement-info.md": COMMAND,
        "api-reference/common/system/scope.md": ONE_WORD,
        "LICENSE": LICENSE,
    }
    for rel, text in pages.items():
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_text(text, encoding="utf-8")
    return root


def test_methods_pages_only_with_their_facts(gen: ModuleType, tmp_path: Path) -> None:
    methods, skipped = gen.build(make_docs(tmp_path / "docs"))
    by_key = {(m["name"], m["api"]): m for m in methods}
    assert sorted(by_key) == [("crm.automation.trigger.delete", 2), ("crm.deal.update", 2), ("scope", 2),
                              ("tasks.task.get", 2), ("tasks.task.get", 3)]
    assert skipped["not a method page"] == 3  # the overview, the event, the JS command

    deal = by_key[("crm.deal.update", 2)]
    assert deal["scopes"] == ["crm"]
    assert deal["params"] == [{"name": "id", "type": "integer", "required": True},
                              {"name": "fields", "type": "object"},
                              {"name": "params", "type": "object", "required": True}]
    assert deal["fields"] == {"fields": [{"name": "TITLE", "type": "string"},
                                         {"name": "STAGE_ID", "type": "crm_status"}]}
    assert deal["deprecated"] is True
    assert deal["replacement"] == "crm.item.update"
    assert deal["doc"] == "api-reference/crm/deals/crm-deal-update.md"
    assert "admin" not in deal
    assert "app_context" not in deal
    assert "twin" not in deal

    v3 = by_key[("tasks.task.get", 3)]
    assert v3["twin"] == "tasks.task.get"
    assert by_key[("tasks.task.get", 2)]["twin"] == "tasks.task.get"
    assert v3["admin"] is True
    assert [p["name"] for p in v3["params"]] == ["id", "select"]
    assert by_key[("tasks.task.get", 2)]["params"] == [{"name": "taskId", "type": "integer", "required": True}]
    assert by_key[("tasks.task.get", 2)]["app_context"] is True
    assert "app_context" not in v3

    trigger = by_key[("crm.automation.trigger.delete", 2)]
    assert trigger["app_context"] is True
    assert trigger["admin"] is True
    assert trigger["params"] == [{"name": "CODE", "required": True}]

    assert by_key[("scope", 2)]["params"] == [{"name": "full", "type": "boolean"}]


@pytest.mark.parametrize(
    ("line", "scopes"),
    [
        (" [`crm`](../../scopes/permissions.md)", ["crm"]),
        (" [`placement, crm`](../../scopes/permissions.md)", ["placement", "crm"]),
        (" [`sign.b2e`](../scopes/permissions.md), [`crm`](../scopes/permissions.md)", ["sign.b2e", "crm"]),
        (" [`placement`, `depends on the placement`](../scopes/permissions.md)", ["placement"]),
        (" [`userfieldconfig`](../permissions.md), module scope from `moduleId` (e.g., [`crm`](../permissions.md))",
         ["userfieldconfig", "crm"]),
        (" `crm`", ["crm"]),
        ("", []),
    ],
)
def test_scopes_of_a_scope_line(gen: ModuleType, line: str, scopes: list[str]) -> None:
    assert gen.scopes_of(line) == scopes


def test_written_catalog_loads_and_carries_the_license(gen: ModuleType, tmp_path: Path) -> None:
    docs = make_docs(tmp_path / "docs")
    out = tmp_path / "out"
    assert gen.main([str(docs), "--out", str(out), "--commit", "abc123"]) == 0
    document = json.loads(gzip.decompress((out / gen.CATALOG_NAME).read_bytes()))
    assert document["commit"] == "abc123"
    assert document["format"] == 1
    license_text = (out / gen.LICENSE_NAME).read_text(encoding="utf-8")
    assert "b24restdocs" in license_text
    assert LICENSE in license_text

    catalog = load_catalog(out / gen.CATALOG_NAME)
    assert len(catalog) == 5
    assert catalog.count(2) == 4
    assert catalog.count(3) == 1
    deal = catalog.get("CRM.Deal.Update")
    assert deal is not None
    assert [p.name for p in deal.required] == ["id", "params"]
    assert [p.name for p in deal.nested("FIELDS")] == ["TITLE", "STAGE_ID"]
    assert deal.doc_url == "https://apidocs.bitrix24.com/api-reference/crm/deals/crm-deal-update.html"
    assert catalog.get("tasks.task.get", 3).api == 3  # type: ignore[union-attr]


def test_the_output_is_the_same_on_every_run(gen: ModuleType, tmp_path: Path) -> None:
    docs = make_docs(tmp_path / "docs")
    gen.main([str(docs), "--out", str(tmp_path / "a"), "--commit", "x"])
    gen.main([str(docs), "--out", str(tmp_path / "b"), "--commit", "x"])
    assert (tmp_path / "a" / gen.CATALOG_NAME).read_bytes() == (tmp_path / "b" / gen.CATALOG_NAME).read_bytes()


def test_a_folder_that_is_not_the_docs_is_refused(gen: ModuleType, tmp_path: Path,
                                                  capsys: pytest.CaptureFixture[str]) -> None:
    assert gen.main([str(tmp_path), "--out", str(tmp_path / "out")]) == 2
    assert "not a checkout" in capsys.readouterr().err
    assert not (tmp_path / "out").exists()
