"""`b24x`: the explorer's command line."""

from __future__ import annotations

import argparse
import sys

from . import cli_call, cli_power
from .sandbox import cli as sandbox_cli


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="b24x", description="Bitrix24 REST explorer on the command line.")
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND")
    cli_call.add_parser(subparsers)
    cli_power.register(subparsers)
    sandbox_cli.add_parser(subparsers)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    func = getattr(args, "func", None)
    if func is None:
        parser.print_help(sys.stderr)
        return 2
    return int(func(args))


if __name__ == "__main__":
    raise SystemExit(main())
