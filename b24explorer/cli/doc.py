"""`b24x doc METHOD`: one documented method offline — scope, version, flags, params table, docs link."""

from __future__ import annotations

import argparse
import difflib
from typing import Any, TextIO

from ..core.reference import MethodRef, ParamRef, ReferenceCatalog
from .base import BadInput, Environment, ExitStatus
from .parsing import add_command
from .reference_data import method_dict, with_catalog


def add_parser(subparsers: Any) -> argparse.ArgumentParser:
    parser = add_command(
        subparsers, "doc", with_catalog(run), help="show a documented method: scope, version, params, flags, docs link",
        description="Show what the Bitrix24 REST docs say of one method, from the catalog shipped with the app: "
        "its scope, API version, flags (application context, administrators, deprecated, its twin in the other "
        "API version), its params with their nested fields, and the link to its page.")
    parser.add_argument("method", help="the method, e.g. crm.deal.productrows.set")
    parser.add_argument("--api", type=int, choices=(2, 3), default=None,
                        help="the REST version (default: v2 when documented there, else v3)")
    parser.add_argument("--json", action="store_true", help="the same as one JSON object")
    return parser


async def run(args: argparse.Namespace, env: Environment, catalog: ReferenceCatalog) -> ExitStatus:
    method = catalog.get(args.method, args.api)
    if method is None:
        raise BadInput(_not_found(catalog, args.method, args.api))
    other = catalog.get(method.name, 5 - method.api)
    if args.json:
        env.dump(method_dict(method, with_params=True))
    else:
        show(method, other, env.stdout)
    return ExitStatus.SUCCESS


def _not_found(catalog: ReferenceCatalog, name: str, api: int | None) -> str:
    if api is not None and catalog.get(name) is not None:
        return f"{name} is documented for REST v{5 - api} only (try --api {5 - api})"
    names = catalog.names(api)
    lowered = {n.lower(): n for n in names}
    close = difflib.get_close_matches(name.lower(), list(lowered), n=3, cutoff=0.75)
    hint = f"; did you mean {', '.join(lowered[c] for c in close)}?" if close else ""
    return f"{name} is not in the REST docs{hint}"


def show(method: MethodRef, other: MethodRef | None, out: TextIO) -> None:
    lines = [f"{method.name} — REST v{method.api}",
             f"scope:   {', '.join(method.scopes) or '(none given)'}"]
    if other is not None:
        lines.append(f"also:    REST v{other.api} (b24x doc {other.name} --api {other.api})")
    lines.append(f"flags:   {'; '.join(method.flag_phrases()) or 'none'}")
    lines.append(f"docs:    {method.doc_url or '(no page)'}")
    lines.append("")
    lines += params_table(method)
    print("\n".join(lines), file=out, flush=True)


def params_table(method: MethodRef) -> list[str]:
    if not method.params:
        return ["params:  none documented"]
    rows: list[tuple[str, ParamRef]] = []
    for param in method.params:
        rows.append((param.name, param))
        rows += [(f"  {param.name.removesuffix('[]')}.{field.name}", field) for field in method.nested(param.name)]
    width = max(len("name"), *(len(name) for name, _ in rows))
    type_width = max(len("type"), *(len(p.type) for _, p in rows))
    out = ["params:", f"  {'name':<{width}}  {'type':<{type_width}}  required"]
    out += [f"  {name:<{width}}  {p.type:<{type_width}}  {'yes' if p.required else ''}".rstrip() for name, p in rows]
    return out
