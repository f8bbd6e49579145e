"""`b24x`: the explorer's command line — thin front-ends over the same workspace as the window.

:func:`main` turns every failure into an :class:`~b24explorer.cli.base.ExitStatus`; :func:`program` is the
command itself, without that handling. Each subcommand is one module here, listed in :data:`COMMANDS`.
"""

from __future__ import annotations

import argparse
import os
from collections.abc import Sequence

from . import batch, call, connection, doc, export, history, list_all, methods, sandbox
from .base import BadInput, Environment, ExitStatus
from .parsing import Command, Handler, build_parser

COMMANDS: list[Command] = [call, batch, list_all, history, export, connection, sandbox, methods, doc]

def program(args: argparse.Namespace, env: Environment) -> ExitStatus:
    """Runs a parsed command; its failures reach the caller."""
    import asyncio

    handler: Handler = args.handler

    async def run() -> ExitStatus:
        return await handler(args, env)

    return asyncio.run(run())


def main(argv: Sequence[str] | None = None, env: Environment | None = None) -> int:
    env = env if env is not None else Environment()
    parser = build_parser(COMMANDS)
    args = parser.parse_args(argv)
    if "handler" not in vars(args):  # no command was named
        parser.print_help(env.stderr)
        return ExitStatus.BAD_INPUT
    try:
        return int(program(args, env))
    except BadInput as exc:
        env.say(f"b24x {args.command}: {exc}")
        return ExitStatus.BAD_INPUT
    except KeyboardInterrupt:
        env.say(f"b24x {args.command}: interrupted")
        return ExitStatus.INTERRUPTED
    except BrokenPipeError:  # the reader went away (`| head`): not an error of ours
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, env.stdout.fileno())
        return ExitStatus.SUCCESS


__all__ = ["COMMANDS", "Environment", "ExitStatus", "main", "program"]
