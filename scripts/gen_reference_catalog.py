"""Builds the offline reference catalog of every documented REST method from a checkout of the public docs.

    python scripts/gen_reference_catalog.py <checkout of bitrix24/b24restdocs> [--out resources/reference]

It reads the method pages (a page with a ``Scope:`` or ``Who can execute the method`` line whose title names a
method) and keeps facts only: name, API version, scopes, params (name, type, required, nested fields from the
page's "Parameter X" tables), whether the method needs an application context or admin rights, whether it is
deprecated and what replaces it, its twin in the other API version, and the page's path for the docs link.
The docs' prose stays on the docs site. Output: ``reference-catalog.json.gz`` and the docs' license notice
``LICENSE-b24restdocs.txt`` beside it. Stdlib only, so it runs without the app's environment.
"""

from __future__ import annotations

import argparse
import gzip
import json
import re
import subprocess
import sys
from collections import Counter
from pathlib import Path
from typing import Any

FORMAT = 1
CATALOG_NAME = "reference-catalog.json.gz"
LICENSE_NAME = "LICENSE-b24restdocs.txt"
DOC_DIRS = ("api-reference", "settings")

METHOD = r"[a-z][A-Za-z0-9_]*(?:\.[A-Za-z0-9_]+)+"
_METHOD_RE = re.compile(rf"(?<![\w./-])({METHOD})(?![\w/-]|\.\w|\.\*)")
_SCOPE_LINE = re.compile(r"^>\s*Scope:(.*)$", re.M)
_WHO_LINE = re.compile(r"^>\s*Who can execute the (method|command)s?:?(.*)$", re.M | re.I)
_TITLE = re.compile(r"^#\s+(.+)$", re.M)
_H2 = re.compile(r"^##\s+(.+?)\s*(?:\{#.*\})?\s*$", re.M)
_PARAMS_H2 = re.compile(r"^(method )?parameters\b", re.I)
_PARAM_HEADING = re.compile(r"^###?\s+(?:Parameter\s+)?\**`?([A-Za-z_][\w\[\]]*)`?\**(?:\s+Parameter)?\s*(?:\{#.*\})?\s*$",
                       re.M | re.I)
_ROW_NAME = re.compile(r"^\|\|\s*\*\*`?([^*`^\n]+?)`?(\^\*\^)?\*\*(\\?\*|\^\*\^)?")
_HEADING = re.compile(r"^(##+)\s+(.+?)\s*(?:\{#([^}]*)\})?\s*$", re.M)
_ANCHOR_LINK = re.compile(r"\]\(#([^)\s]+)\)")
_VARIANT = re.compile(r"^(\d+[.)]|option\b|variant\b)", re.I)
_GENERIC_WORDS = {"parameter", "parameters", "type", "types", "object", "of", "the"}
_ROW_TYPE = re.compile(r"`([^`\n]+)`")
_V3_MARK = "belongs to REST 3.0"
_DEPRECATED_NOTE = re.compile(r'\{%\s*note\s+\w+\s+"(?:DEPRECATED|Deprecated method)"\s*%\}(.*?)\{%\s*endnote\s*%\}',
                              re.S | re.I)
_DEPRECATED_TEXT = re.compile(r"development of this method has been (halted|stopped)|this method is deprecated"
                              r"|the method is deprecated", re.I)
_LINK = re.compile(r"\[([^\]]+)\]\(([^)\s]+)\)")
_APP_CONTEXT = re.compile(r"application context|context of (an |the )?applications?|only (from|in|within) an application"
                          r"|ERROR_WRONG_CONTEXT|WRONG_AUTH_TYPE", re.I)
_ONLY_APP = re.compile(r"\bonly\b[^.\n]{0,40}(application context|context of (an |the )?(authorization of (an |the )?)?application)",
                       re.I)
_ADMIN = re.compile(r"\badmin(istrator|istrative)?s?\b", re.I)


def compact(text: str) -> str:
    return re.sub(r"[^a-z0-9]", "", text.lower())


def page_stem(path: Path) -> str:
    stem = path.stem
    for suffix in ("-rest-v3", "-v3"):
        if stem.endswith(suffix):
            stem = stem[: -len(suffix)]
    return compact(stem)


def method_name(title: str, text: str, head: str, path: Path) -> str | None:
    """The method a page documents. Candidates: the names in its title and any name on the page that matches the
    file name; the one the page uses most wins (titles and file names both carry typos: ``ctrigger.delete`` in
    the title of a page that calls ``crm.automation.trigger.delete`` throughout). A title naming only a family
    (``user.option.*``) is not a method page."""
    title_names = _METHOD_RE.findall(title.replace("`", " "))
    stem = page_stem(path)
    on_page = Counter(name.lower() for name in _METHOD_RE.findall(text.replace("`", " ")))
    candidates = [*title_names, *(name for name in _METHOD_RE.findall(text.replace("`", " "))
                                  if compact(name) == stem)]
    if candidates:  # the same name in any case counts once; the title's spelling wins
        return max(candidates, key=lambda name: (on_page[name.lower()], name in title_names))
    if "-" not in path.stem and re.search(rf"`{re.escape(path.stem)}`", head):
        return path.stem  # one-word methods: scope, methods, events, profile, batch
    return None


def _tables(section: str) -> list[tuple[int, str]]:
    """The top-level ``#| … |#`` tables of a section, each with its offset; nested tables stay inside their cell."""
    tables: list[tuple[int, str]] = []
    depth, start, pos = 0, 0, 0
    for line in section.splitlines(keepends=True):
        stripped = line.strip()
        if stripped.startswith("#|"):
            if depth == 0:
                start = pos
            depth += 1
        elif stripped.endswith("|#") and depth:
            depth -= 1
            if depth == 0:
                tables.append((start, section[start:pos + len(line)]))
        pos += len(line)
    return tables


def table_rows(table: str) -> list[str]:
    """The rows of a YFM table (``|| cell | cell ||``, a row may span lines), nested tables left inside cells."""
    rows: list[str] = []
    depth = 0
    for line in table.splitlines():
        stripped = line.strip()
        if stripped.startswith("#|"):
            depth += 1
            if depth == 1:
                continue
        elif stripped.endswith("|#") and depth:
            depth -= 1
            if depth == 0:
                continue
        if depth == 1 and stripped.startswith("||") and stripped != "||":  # a lone "||" closes the row above
            rows.append(stripped)
        elif rows:
            rows[-1] += "\n" + stripped
    return rows


def table_params(table: str) -> list[dict[str, Any]]:
    params: list[dict[str, Any]] = []
    rows = table_rows(table)
    for row in rows:
        match = _ROW_NAME.match(row)
        if not match:
            continue
        first_cell = row[match.end():].split(" | ", 1)[0].split("|", 1)[0]
        if row is rows[0] and "**Description**" in row:
            continue  # the header row
        name = match.group(1).strip().rstrip("*").strip()
        if not re.fullmatch(r"[\w\[\].:-]+", name):
            continue
        param: dict[str, Any] = {"name": name}
        type_match = _ROW_TYPE.search(first_cell)
        if type_match:
            param["type"] = type_match.group(1).strip()
        anchor = _ANCHOR_LINK.search(first_cell)
        if anchor:
            param["anchor"] = anchor.group(1)
        if match.group(2) or match.group(3):
            param["required"] = True
        params.append(param)
    return params


def params_section(text: str) -> str:
    """The page's params part: its "Method Parameters" sections (some pages have one per variant) with the
    "Parameter X" sections right after them; on a page without that heading, the text before its first other
    section (older pages open with the table)."""
    headings = list(_H2.finditer(text))
    starts = [h.end() for h in headings if _PARAMS_H2.match(h.group(1).strip())]
    if not starts:
        title = _TITLE.search(text)
        starts = [title.end() if title else 0]
    parts = []
    for start in starts:
        end = next((h.start() for h in headings if h.start() >= start and not _PARAMS_H2.match(h.group(1).strip())
                    and not _PARAM_HEADING.match(h.group(0))), len(text))
        parts.append(text[start:end])
    return "\n".join(parts)


def params_of(text: str) -> tuple[list[dict[str, Any]], dict[str, list[dict[str, Any]]]]:
    """The params table(s) of the page and the nested fields of the tables under its sub-headings. A sub-table
    belongs to the param whose type links to the heading's anchor (``[`object[]`](#parameter-rows)``) or whose
    name the heading says ("Parameter fields", "Filter Parameters"); a sub-table that matches no param is left
    out (returned data, value lists)."""
    section = params_section(text)
    headings = list(_HEADING.finditer(section))
    top: list[dict[str, Any]] = []
    groups: dict[str, list[dict[str, Any]]] = {}
    known: dict[str, str] = {}
    anchors: dict[str, str] = {}

    def learn(rows: list[dict[str, Any]]) -> None:
        for p in rows:
            known.setdefault(compact(p["name"]), p["name"])
            anchor = p.pop("anchor", None)
            if anchor:
                anchors.setdefault(anchor.lower(), p["name"])

    for offset, table in _tables(section):
        heading = next((h for h in reversed(headings) if h.start() < offset), None)
        rows = table_params(table)
        is_params = heading is None or ((heading.group(1) == "##" and _PARAMS_H2.match(heading.group(2)))
                                        or bool(_VARIANT.match(heading.group(2))) or not top)
        if is_params:  # a params table (some pages have one per variant: "1. By the poll ID", "2. By …")
            top += [p for p in rows if compact(p["name"]) not in known]
            learn(rows)
            continue
        owner = anchors.get((heading.group(3) or "").lower()) or next(
            (known[compact(w)] for w in re.findall(r"[\w\[\]]+", heading.group(2))
             if compact(w) in known and w.lower() not in _GENERIC_WORDS), None)
        if owner and rows and owner not in groups:
            groups[owner] = rows
            learn(rows)
    for rows in groups.values():
        for p in rows:
            p.pop("anchor", None)
    return top, groups


def deprecation(text: str, head: str, rel_path: str) -> tuple[bool, str | None]:
    note = _DEPRECATED_NOTE.search(text)
    body = note.group(1) if note else (head if _DEPRECATED_TEXT.search(head) else "")
    deprecated = bool(note) or bool(body) or "/outdated/" in rel_path or "/deprecated/" in rel_path
    if not deprecated:
        return False, None
    for label, target in _LINK.findall(body):
        label = label.strip("` ")
        if re.fullmatch(rf"{METHOD}(\.\*)?", label):
            return True, label
        if target.endswith(".md") and not target.startswith("http"):
            return True, str((Path(rel_path).parent / target.split("#")[0]).as_posix())
    return True, None


def _normalise(path: str) -> str:
    parts: list[str] = []
    for part in path.split("/"):
        if part == "..":
            if parts:
                parts.pop()
        elif part not in ("", "."):
            parts.append(part)
    return "/".join(parts)


def parse_page(text: str, rel_path: str) -> dict[str, Any] | None:
    """One method page as a catalog entry, or None when the page is not a method page."""
    scope_line = _SCOPE_LINE.search(text)
    who = _WHO_LINE.search(text)
    if scope_line is None and who is None:
        return None
    if who is not None and who.group(1).lower() == "command":
        return None  # a JS interface command of the embedding API, not a REST method
    title = _TITLE.search(text)
    if title is None:
        return None
    params_at = next((m.start() for m in _H2.finditer(text) if _PARAMS_H2.match(m.group(1).strip())), None)
    head = text[title.end(): params_at if params_at is not None else min(len(text), title.end() + 4000)]
    name = method_name(title.group(1), text, head, Path(rel_path))
    if name is None:
        return None
    entry: dict[str, Any] = {"name": name, "api": 3 if _V3_MARK in text or rel_path.endswith("-rest-v3.md") else 2}
    if scope_line is not None:
        entry["scopes"] = scopes_of(scope_line.group(1))
    top, groups = params_of(text)
    entry["params"] = top
    if groups:
        entry["fields"] = groups
    who_text = who.group(2) if who is not None else ""
    plain_head = _LINK.sub(r"\1", head)
    if (_APP_CONTEXT.search(who_text) or _APP_CONTEXT.search(_notes(head)) or _ONLY_APP.search(plain_head)
            or _errors_need_app(text)):
        entry["app_context"] = True
    if _ADMIN.search(who_text):
        entry["admin"] = True
    deprecated, replacement = deprecation(text, head, rel_path)
    if deprecated:
        entry["deprecated"] = True
        if replacement:
            entry["replacement"] = _normalise(replacement) if replacement.endswith(".md") else replacement
    entry["doc"] = rel_path
    return entry


def scopes_of(line: str) -> list[str]:
    """The scopes a ``Scope:`` line names: the code spans of its links to the scopes page (one span may list
    several: ``placement, crm``), or its bare code spans when it has no links; words like ``depends on the
    placement`` and code that only names a param (``moduleId``) are not scopes."""
    linked = [label for label, target in _LINK.findall(line) if "scope" in target or "permission" in target]
    spans = [span for label in linked for span in re.findall(r"`([^`]+)`", label)] if linked else \
        re.findall(r"`([^`]+)`", line)
    scopes = [part.strip() for span in spans for part in span.split(",")]
    return list(dict.fromkeys(s for s in scopes if re.fullmatch(r"[a-z][a-z0-9_.]*", s)))


def _notes(head: str) -> str:
    return " ".join(re.findall(r"\{%\s*note[^%]*%\}(.*?)\{%\s*endnote\s*%\}", head, re.S))


def _errors_need_app(text: str) -> bool:
    """An error table row saying the call failed for want of an application context."""
    return any((_APP_CONTEXT.search(line) and "required" in line.lower()) or "ERROR_WRONG_CONTEXT" in line
               for line in text.splitlines() if line.startswith("||"))


def build(docs: Path) -> tuple[list[dict[str, Any]], Counter[str]]:
    """Every method entry of a docs checkout, sorted by (name, api), with twins linked; and skip counts."""
    entries: dict[tuple[str, int], dict[str, Any]] = {}
    skipped: Counter[str] = Counter()
    for top in DOC_DIRS:
        for path in sorted((docs / top).rglob("*.md")):
            rel = path.relative_to(docs).as_posix()
            entry = parse_page(path.read_text(encoding="utf-8", errors="replace"), rel)
            if entry is None:
                skipped["not a method page"] += 1
                continue
            key = (entry["name"], entry["api"])
            if key in entries:
                skipped["second page of a method"] += 1
                continue
            entries[key] = entry
    for (name, api), entry in entries.items():
        if (name, 5 - api) in entries:
            entry["twin"] = name
    return [entries[key] for key in sorted(entries)], skipped


def docs_commit(docs: Path) -> str | None:
    try:
        out = subprocess.run(["git", "-C", str(docs), "rev-parse", "HEAD"], capture_output=True, text=True,
                             check=True, timeout=10)
        return out.stdout.strip() or None
    except (OSError, subprocess.SubprocessError):
        return None


def write(methods: list[dict[str, Any]], out: Path, docs: Path, commit: str | None = None) -> Path:
    out.mkdir(parents=True, exist_ok=True)
    document = {"format": FORMAT, "source": "bitrix24/b24restdocs", "commit": commit, "methods": methods}
    data = json.dumps(document, ensure_ascii=False, separators=(",", ":"), sort_keys=True).encode()
    target = out / CATALOG_NAME
    target.write_bytes(gzip.compress(data, compresslevel=9, mtime=0))
    license_file = docs / "LICENSE"
    if license_file.is_file():
        notice = ("The reference catalog beside this file is derived from the Bitrix24 REST documentation\n"
                  "(https://github.com/bitrix24/b24restdocs), published under this license:\n\n")
        (out / LICENSE_NAME).write_text(notice + license_file.read_text(encoding="utf-8"), encoding="utf-8")
    return target


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("docs", type=Path, help="a checkout of bitrix24/b24restdocs")
    parser.add_argument("--out", type=Path, default=Path(__file__).resolve().parent.parent / "resources" / "reference")
    parser.add_argument("--commit", help="the docs commit to record (default: asked from git in the checkout)")
    args = parser.parse_args(argv)
    if not (args.docs / "api-reference").is_dir():
        print(f"error: {args.docs} has no api-reference/ folder: not a checkout of the REST docs", file=sys.stderr)
        return 2
    methods, skipped = build(args.docs)
    target = write(methods, args.out, args.docs, args.commit or docs_commit(args.docs))
    by_api = Counter(m["api"] for m in methods)
    print(f"{len(methods)} methods (v2 {by_api[2]}, v3 {by_api[3]}), "
          f"{sum('twin' in m for m in methods) // 2} v2/v3 twins, {sum('deprecated' in m for m in methods)} deprecated; "
          f"pages skipped: {dict(skipped)}; {target} {target.stat().st_size} bytes")
    return 0


if __name__ == "__main__":
    sys.exit(main())
