"""Running `b24x` in-process with injected streams, for the command line's tests."""

from __future__ import annotations

import io

from b24explorer.cli import Environment, main


def b24x(*argv: str, stdin: str = "", environ: dict[str, str] | None = None) -> tuple[int, str, str]:
    """(exit status, stdout, stderr) of one `b24x` run."""
    env = Environment(stdin=io.StringIO(stdin), stdout=io.StringIO(), stderr=io.StringIO(), environ=environ or {})
    code = main(list(argv), env)
    return code, env.stdout.getvalue(), env.stderr.getvalue()
