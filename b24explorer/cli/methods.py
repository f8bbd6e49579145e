"""`b24x methods`: every method the REST docs document (the offline reference catalog), no connection needed."""

from __future__ import annotations

import argparse
import difflib
from typing import Any

from ..core.reference import MethodRef, ReferenceCatalog
from .base import BadInput, Environment, ExitStatus
from .parsing import add_command
from .reference_data import method_dict, with_catalog


def add_parser(subparsers: Any) -> argparse.ArgumentParser:
    parser = add_command(
        subparsers, "methods", with_catalog(run), help="list the documented REST methods (offline)",
        description="List every method the Bitrix24 REST docs document, from the catalog shipped with the app: "
        "name, API version, scope and flags. No connection is needed.")
    parser.add_argument("--json", action="store_true", help="a JSON array of the methods with their flags")
    parser.add_argument("--scope", metavar="S", help="only methods of this scope (e.g. crm, task, user)")
    parser.add_argument("--search", metavar="TEXT", help="only methods whose name contains TEXT")
    parser.add_argument("--api", type=int, choices=(2, 3), default=None, help="only REST v2 or v3 methods")
    return parser


async def run(args: argparse.Namespace, env: Environment, catalog: ReferenceCatalog) -> ExitStatus:
    methods: list[MethodRef] = catalog.search(args.search, args.api) if args.search else [
        m for m in catalog if args.api is None or m.api == args.api]
    if args.scope:
        scopes = catalog.scopes()
        if args.scope not in scopes:
            close = difflib.get_close_matches(args.scope, scopes, n=3)
            hint = f" (did you mean {', '.join(close)}?)" if close else f" (known: {', '.join(scopes)})"
            raise BadInput(f"--scope {args.scope!r}: no documented method has it{hint}")
        methods = [m for m in methods if args.scope in m.scopes]
    if not args.search:
        methods.sort(key=lambda m: (m.name.lower(), m.api))
    if args.json:
        env.dump([method_dict(m) for m in methods])
    else:
        out = env.stdout
        for m in methods:
            marks = " deprecated" if m.deprecated else ""
            print(f"{m.name:<52} v{m.api}  {','.join(m.scopes):<24}{marks}".rstrip(), file=out)
        out.flush()
    v2 = sum(1 for m in methods if m.api == 2)
    env.say(f"{len(methods)} methods (REST v2 {v2}, v3 {len(methods) - v2}) · docs commit {catalog.commit or '?'}")
    return ExitStatus.SUCCESS
