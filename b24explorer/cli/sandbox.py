"""`b24x sandbox`: the built-in sandbox portal (its own parser lives with it: the sandbox imports nothing of ours)."""

from __future__ import annotations

import argparse
from typing import Any

from ..sandbox import cli as sandbox_cli
from .base import Environment, ExitStatus


def add_parser(subparsers: Any) -> argparse.ArgumentParser:
    parser = sandbox_cli.add_parser(subparsers)
    parser.set_defaults(handler=run)
    return parser


async def run(args: argparse.Namespace, env: Environment) -> ExitStatus:
    return ExitStatus(sandbox_cli.run(args))
