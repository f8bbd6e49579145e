"""`--check` of `b24x call | batch | list`: the pre-send checks (``core.precheck``) of a request, with nothing
sent. Findings go to stdout as JSON and to stderr one line each; the exit status is 2 when one is a problem
(a warning or an error) and 0 when there is none. Also the refusal of writes on a connection switched to
read-only, before anything is sent."""

from __future__ import annotations

import argparse
from collections.abc import Sequence
from dataclasses import asdict
from typing import Any

from ..core.connections import Connection
from ..core.precheck import Code, ConnectionFacts, Finding, check_batch, check_request, has_problems
from ..core.workspace import Workspace
from .base import BadInput, Environment, ExitStatus
from .parsing import WEBHOOK_ENV
from .target import parse_webhook


def add_check_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--check", action="store_true",
                        help="check the request against the docs and the connection, send nothing: exit 2 when "
                             "a check finds a problem, 0 when none does")


def saved_connection(workspace: Workspace, args: argparse.Namespace, env: Environment) -> Connection | None:
    """The saved connection the request would go through, found without reading the keyring (or None)."""
    profile = getattr(args, "profile", None)
    if profile:
        found = workspace.connections.get(profile)
        if found is None:
            raise BadInput(f"no connection {profile!r} (known: {', '.join(workspace.connections.names()) or 'none'})")
        return found
    url = getattr(args, "webhook", None) or env.environ.get(WEBHOOK_ENV, "").strip()
    if not url:
        return None
    hook = parse_webhook(url)
    return next((c for c in workspace.connections if c.portal == hook.portal and c.user_id == hook.user_id), None)


def facts_of(connection: Connection | None) -> ConnectionFacts:
    if connection is None:
        return ConnectionFacts()
    return ConnectionFacts(read_only=connection.read_only, webhook=str(connection.auth) == "webhook")


def findings_of(method: str, params: Any, api: int, facts: ConnectionFacts) -> list[Finding]:
    """The checks of one call, or (``method="batch"`` with ``params={"cmd": commands}``) of a batch's commands
    in the shapes ``b24x batch --cmd`` takes."""
    if method == "batch" and isinstance(params, dict) and set(params) == {"cmd"}:
        return check_batch(params["cmd"], api, facts)
    return check_request(method, params, api, facts)


def report(method: str, api: int, findings: Sequence[Finding], env: Environment) -> ExitStatus:
    """The findings on stdout (JSON) and stderr (one line each); 2 when any is a problem, else 0."""
    problems = has_problems(findings)
    env.dump({"method": method, "api": api, "problems": problems,
              "findings": [{**asdict(f), "code": str(f.code), "severity": str(f.severity)} for f in findings]})
    for finding in findings:
        where = f" {finding.path}:" if finding.path else ""
        hint = f" → {finding.suggestion}" if finding.suggestion else ""
        env.say(f"{finding.severity} {finding.code}{where} {finding.message}{hint}")
    env.say("problems found: nothing was sent" if problems else "no problems found: nothing was sent")
    return ExitStatus.BAD_INPUT if problems else ExitStatus.SUCCESS


async def run_check(workspace: Workspace, args: argparse.Namespace, env: Environment, method: str, params: Any,
                    api: int) -> ExitStatus:
    facts = facts_of(saved_connection(workspace, args, env))
    return report(method, api, findings_of(method, params, api, facts), env)


def refuse_writes_on_read_only(connection: Connection | None, method: str, params: Any, api: int) -> None:
    """BadInput (nothing sent) when the connection is switched to read-only and the request may change data."""
    if connection is None or not connection.read_only:
        return
    refused = [f for f in findings_of(method, params, api, facts_of(connection))
               if f.code is Code.WRITE_ON_READ_ONLY]
    if refused:
        reasons = "; ".join(f.message for f in refused)
        raise BadInput(f"{reasons} (switch it off with `b24x connection read-only {connection.name!r} off`)")
