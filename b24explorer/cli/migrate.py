"""`b24x migrate METHOD`: a REST v2 call, its REST v3 form sent beside it, the two answers compared field by field.

`b24x migrate --report` instead reads the connection's history: which methods it called over v2 that the portal
offers in v3, how often, and whether their recorded params translate cleanly.
"""

from __future__ import annotations

import argparse
import json
from typing import TYPE_CHECKING, Any

from ..core import migration
from ..core.errors import SdkError
from ..core.v3 import BUILTIN_V3_METHODS
from .base import BadInput, Environment, ExitStatus, error_object
from .parsing import WEBHOOK_ENV, add_command, add_connection_options, check_timeout, read_params
from .target import Target, resolve, workspace_of

if TYPE_CHECKING:
    from ..core.client import B24Client


def add_parser(subparsers: Any) -> argparse.ArgumentParser:
    parser = add_command(
        subparsers, "migrate", run, help="send a v2 call and its REST v3 form, compare the answers; or a report",
        description="Translate a REST v2 call to REST v3, send both and print the v3 request and the field-by-field "
        "comparison of the two answers. Exit 0: both calls succeeded, 1: a call failed, 2: the params do not "
        "translate (nothing is sent over v3). A write method is sent over v3 only. With --report: which methods "
        "the connection called over v2 that its portal offers in v3, and whether their params translate. "
        f"The webhook comes from --profile, --webhook or the {WEBHOOK_ENV} environment variable.")
    parser.add_argument("method", nargs="?", help="the v2 method, e.g. tasks.task.get")
    parser.add_argument("--params", metavar="JSON|@file", help="the v2 params as a JSON object, or @path")
    parser.add_argument("--report", action="store_true",
                        help="the migration report of the connection's history instead of a call")
    parser.add_argument("--json", action="store_true", help="print one JSON document instead of text")
    parser.add_argument("--send-partial", action="store_true",
                        help="send what did translate even when some params have no v3 form")
    add_connection_options(parser)
    return parser


async def run(args: argparse.Namespace, env: Environment) -> ExitStatus:
    check_timeout(args)
    if args.report:
        if args.method or args.params:
            raise BadInput("--report takes no METHOD or --params")
        return await _report(args, env)
    if not args.method:
        raise BadInput("a METHOD is needed (or --report)")
    params = read_params(args.params, env, allow_list=False)
    method = args.method.strip()
    if not migration.can_translate(method):
        known = ", ".join(sorted(migration.PAIRS))
        raise BadInput(f"{method} has no REST v3 translation rule (methods with one: {known})")
    async with workspace_of(env) as workspace:
        target = await resolve(workspace, args, env)
        async with target.new_client() as client:
            try:
                result = await migration.run_migration(client, method, params, send_partial=args.send_partial)
            except SdkError as exc:  # the client refused the input before sending
                raise BadInput(exc.message) from None
            await _record(target, result, args, env)
    _print_run(result, args.json, env)
    return ExitStatus(result.exit_code)


async def _record(target: Target, result: migration.MigrationRun, args: argparse.Namespace,
                  env: Environment) -> None:
    """Both calls into the history, the way `b24x call` records one."""
    method = result.translation.method
    for outcome in migration.outcomes_of(result, lambda api, params, rid: target.outcome("call", method, api,
                                                                                         params, rid)):
        await target.record(outcome, args, env)


def run_document(result: migration.MigrationRun) -> dict[str, Any]:
    """The run as one JSON-able document (what `--json` prints)."""
    t = result.translation
    return {
        "method": t.method,
        "v3_request": {"method": t.method, "api": 3, "params": t.params},
        "clean": t.clean,
        "problems": [{"path": p.path, "value": p.value, "reason": p.reason} for p in t.problems],
        "notes": list(t.notes),
        "schema_source": t.schema_source,
        "v2": _side(result.v2),
        "v3": _side(result.v3),
        "fields": [{"v2": r.path_v2, "v3": r.path_v3, "value_v2": r.value_v2, "value_v3": r.value_v3,
                    "status": str(r.status)} for r in result.rows],
        "exit_code": result.exit_code,
    }


def _side(sent: migration.Sent | None) -> dict[str, Any] | None:
    if sent is None:
        return None
    error = sent.error
    return {"api": sent.api, "params": sent.params, "ok": sent.ok,
            "error": error_object(error) if error is not None else None}


def _print_run(result: migration.MigrationRun, as_json: bool, env: Environment) -> None:
    if as_json:
        env.dump(run_document(result))
        return
    t = result.translation
    out = env.stdout
    out.write(f"REST v3 request: {t.method}\n{json.dumps(t.params, ensure_ascii=False, indent=2)}\n")
    for problem in t.problems:
        out.write(f"! not translated {problem.path or '(params)'}: {problem.reason}\n")
    for note in t.notes:
        out.write(f"note: {note}\n")
    if result.v3 is None:
        out.write("Not sent over REST v3: the params do not translate cleanly (--send-partial sends the rest).\n")
    for label, sent in (("v2", result.v2), ("v3", result.v3)):
        if sent is not None and not sent.ok and sent.error is not None:
            out.write(f"REST {label} call failed: {sent.error.code}: {sent.error.message}\n")
    if result.v2 is None:
        out.write("REST v2 call not sent: the method writes, and sending it twice would act twice.\n")
    if result.rows:
        out.write("\nField by field (v2 → v3):\n")
        out.write(comparison_text(result.rows))
    out.flush()


def comparison_text(rows: tuple[migration.FieldRow, ...] | list[migration.FieldRow]) -> str:
    """The comparison as aligned text: v2 path, v3 path, v2 value, v3 value, status (differences marked)."""
    table = [("v2 field", "v3 field", "v2 value", "v3 value", "")]
    for row in rows:
        mark = "" if row.status is migration.Match.SAME else f"<< {row.status}"
        table.append((row.path_v2 or "—", row.path_v3 or "—", _short(row.value_v2, row.path_v2),
                      _short(row.value_v3, row.path_v3), mark))
    widths = [min(40, max(len(cells[i]) for cells in table)) for i in range(4)]
    lines = ["  ".join(cell.ljust(widths[i]) if i < 4 else cell for i, cell in enumerate(cells)).rstrip()
             for cells in table]
    return "\n".join(lines) + "\n"


def _short(value: Any, path: str | None) -> str:
    if path is None:
        return ""
    text = json.dumps(value, ensure_ascii=False)
    return text if len(text) <= 40 else text[:39] + "…"


async def _report(args: argparse.Namespace, env: Environment) -> ExitStatus:
    async with workspace_of(env) as workspace:
        target = await resolve(workspace, args, env)
        async with target.new_client() as client:
            v3_methods, openapi = await _portal_v3(client)
        key = target.connection.id if target.connection is not None else target.webhook.host
        report = migration.report_for_connection(workspace.history, key, v3_methods, openapi)
    name = target.connection.name if target.connection is not None else target.webhook.host
    if args.json:
        env.dump(report_document(report, name))
    else:
        env.stdout.write(report_text(report, name))
        env.stdout.flush()
    return ExitStatus.SUCCESS


async def _portal_v3(client: B24Client) -> tuple[frozenset[str], Any]:
    """What the portal offers in v3 and its OpenAPI document (the built-in list when it cannot be read)."""
    try:
        return await client.v3.methods(), await client.v3_openapi()
    except SdkError:
        return BUILTIN_V3_METHODS, None


def report_document(report: migration.MigrationReport, connection: str) -> dict[str, Any]:
    return {
        "connection": connection,
        "scanned": report.scanned,
        "schema_sources": report.schema_sources,
        "methods": [{"method": m.method, "calls": m.calls, "clean": m.clean, "last_called": m.last_called,
                     "has_rule": m.has_rule, "translates_cleanly": m.translates_cleanly,
                     "reasons": list(m.reasons), "example": m.example} for m in report.methods],
    }


def report_text(report: migration.MigrationReport, connection: str) -> str:
    lines = [f"REST v3 migration report for {connection}: {report.scanned} v2 calls in the history, "
             f"{len(report.methods)} methods the portal offers in v3, {len(report.ready)} ready."]
    for m in report.methods:
        if not m.has_rule:
            state = "no translation rule yet"
        elif m.translates_cleanly:
            state = "translates cleanly"
        else:
            state = f"{m.clean} of {m.calls} translate cleanly"
        lines.append(f"  {m.method}: {m.calls} call{'s' if m.calls != 1 else ''}, {state}")
        lines.extend(f"    - {reason}" for reason in m.reasons)
    return "\n".join(lines) + "\n"
