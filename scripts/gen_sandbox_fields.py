#!/usr/bin/env python3
"""Derive the sandbox's field tables from a checkout of the public REST docs (bitrix24/b24restdocs).

    scripts/gen_sandbox_fields.py PATH/TO/b24restdocs [--out b24explorer/sandbox/docs_fields.py]

It reads the example answers of the `*.fields` pages and the scope table, and writes facts only (names,
types, flags, titles, defaults, enum values, scope codes) as one Python literal in a module the sandbox
imports (standard library only, and it travels with the package). Run it again when the docs change.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from pathlib import Path
from typing import Any

CRM_PAGES = {
    "deal": "crm/deals/crm-deal-fields.md",
    "lead": "crm/leads/crm-lead-fields.md",
    "contact": "crm/contacts/crm-contact-fields.md",
    "company": "crm/companies/crm-company-fields.md",
}
NAME_TITLE_PAGES = {"user": "user/user-fields.md", "department": "departments/department-fields.md"}
TASK_PAGE = "tasks/tasks-task-get-fields.md"
ITEM_PAGE = "crm/universal/crm-item-fields.md"
PRODUCT_ROW_PAGE = "crm/universal/product-rows/crm-item-productrow-fields.md"
SCOPE_PAGE = "scopes/permissions.md"

_JSON_BLOCK = re.compile(r"```json\n(.*?)```", re.DOTALL)


def response_example(text: str) -> Any:
    """The `result` of the first JSON example after the page's "Response" heading."""
    start = text.lower().find("## response")
    if start < 0:
        raise ValueError("no response section")
    for block in _JSON_BLOCK.findall(text[start:]):
        try:
            data = json.loads(block)
        except ValueError:
            continue
        if isinstance(data, dict) and "result" in data:
            return data["result"]
    raise ValueError("no JSON example with a result")


def _is_custom(name: str) -> bool:
    """Portal-specific fields of the example (user fields, smart-process parent links): not standard."""
    return name.startswith(("UF_", "PARENT_ID_", "parentId")) and name != "UF_DEPARTMENT"


def crm_fields(text: str) -> list[list[Any]]:
    """[[NAME, type, title, flags, statusType]]; flags is a string of R(equired) O(read-only) I(mmutable)
    M(ultiple) letters."""
    out = []
    for name, info in response_example(text).items():
        if _is_custom(name) or info.get("isDynamic"):
            continue
        flags = "".join(letter for letter, key in (("R", "isRequired"), ("O", "isReadOnly"), ("I", "isImmutable"),
                                                     ("M", "isMultiple")) if info.get(key))
        out.append([name, info.get("type", "string"), info.get("title") or name, flags, info.get("statusType")])
    return out


def item_names(text: str) -> dict[str, str]:
    """crm.item's camelCase name of each UPPER_CASE name (`upperName`)."""
    result = response_example(text)
    fields = result.get("fields", result)
    return {info["upperName"]: name for name, info in fields.items()
            if isinstance(info, dict) and info.get("upperName") and not _is_custom(info["upperName"])}


def name_titles(text: str) -> list[list[str]]:
    return [[name, title] for name, title in response_example(text).items() if isinstance(title, str)]


def task_fields(text: str) -> list[list[Any]]:
    """[[NAME, type, title, required, default, enum values]] from tasks.task.getFields."""
    out = []
    for name, info in response_example(text)["fields"].items():
        if _is_custom(name):
            continue
        out.append([name, info.get("type", "string"), info.get("title") or "", bool(info.get("required")),
                    info.get("default"), info.get("values")])
    return out


def scopes(text: str) -> list[str]:
    """Every scope code of the permissions table, versions (user_brief, user_basic) included."""
    codes: set[str] = set()
    for row in re.findall(r"^\|\| \*\*([^*]+)\*\*(.*?)\|\|$", text, re.MULTILINE | re.DOTALL):
        head, rest = row
        if head.strip().lower() == "scope code":
            continue
        codes.update(code.strip() for code in head.split(","))
        codes.update(re.findall(r"\*\*([a-z_.]+)\*\* —", rest))
    return sorted(c for c in codes if re.fullmatch(r"[a-z][a-z0-9_.]*", c))


def _shape(value: Any) -> dict[str, Any]:
    """What an answer looks like, without its values: JSON type, the keys of an object (of the first row of a
    list of objects), and one level further for a wrapper such as {"items": [...]} or {"task": {...}}."""
    if isinstance(value, list):
        rows = [v for v in value if isinstance(v, dict)]
        out: dict[str, Any] = {"type": "array"}
        if rows:
            out["row_keys"] = sorted(k for k in rows[0] if not _is_custom(k))
        return out
    if isinstance(value, dict):
        keys = sorted(k for k in value if not _is_custom(k))
        out = {"type": "object", "keys": keys}
        if len(keys) == 1 and isinstance(value[keys[0]], (dict, list)):
            out["inner"] = _shape(value[keys[0]])
        return out
    return {"type": {bool: "boolean", int: "number", float: "number", str: "string"}.get(type(value), "null")}


def page_of(ref: Path, method: str, v3: bool, titles: dict[str, list[Path]]) -> Path | None:
    """The docs page of a method: the page named after it, else the one whose heading ends with its name."""
    stem = method.replace(".", "-")
    for name in ((f"{stem}-rest-v3.md",) if v3 else (f"{stem}.md",)):
        named = [p for p in titles.get(method, []) if p.name == name] or list(ref.rglob(name))
        if named:
            return sorted(named)[0]
    candidates = [p for p in titles.get(method, []) if p.name.endswith("-rest-v3.md") == v3]
    return sorted(candidates)[0] if candidates else None


def answers(ref: Path, methods: list[str], v3: bool) -> dict[str, Any]:
    """The documented answer's shape of each method the sandbox serves that has a page with an example."""
    titles: dict[str, list[Path]] = {}
    for path in ref.rglob("*.md"):
        with path.open(encoding="utf-8") as handle:
            first = handle.readline()
        match = re.match(r"#\s+.*?\b([a-z][a-zA-Z0-9]*(?:\.[a-zA-Z0-9]+)+)\s*$", first)
        if match:
            titles.setdefault(match.group(1).lower(), []).append(path)
    out = {}
    for method in methods:
        page = page_of(ref, method, v3, titles)
        if page is None:
            continue
        try:
            out[method] = {"page": str(page.relative_to(ref)), **_shape(response_example(page.read_text("utf-8")))}
        except ValueError:
            continue
    return out


def served_methods() -> tuple[list[str], list[str]]:
    """The sandbox's v2 and v3 method names (the project's own registries)."""
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
    from b24explorer.sandbox import portal  # noqa: F401  (fills the registries)
    from b24explorer.sandbox.registry import V2, V3
    return sorted(V2), sorted(V3)


def build(docs: Path) -> dict[str, Any]:
    ref = docs / "api-reference"

    def read(page: str) -> str:
        return (ref / page).read_text(encoding="utf-8")

    return {
        "crm": {entity: crm_fields(read(page)) for entity, page in CRM_PAGES.items()},
        "crm_item_names": item_names(read(ITEM_PAGE)),
        **{entity: name_titles(read(page)) for entity, page in NAME_TITLE_PAGES.items()},
        "task": task_fields(read(TASK_PAGE)),
        "product_row": sorted(response_example(read(PRODUCT_ROW_PAGE)).get("fields", {}))
        if (ref / PRODUCT_ROW_PAGE).exists() else [],
        "scopes": scopes(read(SCOPE_PAGE)),
        "answers_v2": answers(ref, served_methods()[0], v3=False),
        "answers_v3": answers(ref, served_methods()[1], v3=True),
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("docs", type=Path, help="a checkout of bitrix24/b24restdocs")
    parser.add_argument("--out", type=Path,
                        default=Path(__file__).resolve().parent.parent / "b24explorer" / "sandbox" / "docs_fields.py")
    args = parser.parse_args()
    if not (args.docs / "api-reference").is_dir():
        print(f"{args.docs}: not a b24restdocs checkout (no api-reference/)", file=sys.stderr)
        return 2
    facts = build(args.docs)
    # one top-level key per line keeps diffs readable when the docs change
    body = ",\n".join(f"    {key!r}: {value!r}" for key, value in facts.items())
    args.out.write_text(
        '"""Field sets and scope codes from the public REST docs (facts only).\n\n'
        'Generated by scripts/gen_sandbox_fields.py from a b24restdocs checkout; do not edit by hand."""\n'
        "\n"
        "from typing import Any\n\n"
        f"FACTS: dict[str, Any] = {{\n{body},\n}}\n", encoding="utf-8")
    print(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
