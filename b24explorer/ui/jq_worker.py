"""Runs one jq program over a JSON document in a separate process.

The jq library holds the GIL for the whole run (seconds on a 32 MB answer), so running it on a thread
would freeze the window; a child process keeps the UI live and can be killed to cancel.
Usage: `python -m b24explorer.ui.jq_worker PROGRAM < document.json` → jq's outputs, one compact JSON
text per line, on stdout; exit 1 with the message on stderr when the program fails.
"""

from __future__ import annotations

import sys


def run(program: str, document: bytes) -> tuple[int, bytes, str]:
    """(exit code, output, error message) of `program` over `document`."""
    import jq

    try:
        compiled = jq.compile(program)
    except ValueError as exc:
        return 2, b"", str(exc)
    try:
        output = compiled.input_text(document.decode("utf-8")).text()
    except (ValueError, UnicodeDecodeError) as exc:
        return 1, b"", str(exc)
    return 0, output.encode("utf-8"), ""


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    if args and args[0] == "--jq-worker":
        args = args[1:]
    if len(args) != 1:
        print("usage: jq_worker PROGRAM < document.json", file=sys.stderr)
        return 2
    code, output, message = run(args[0], sys.stdin.buffer.read())
    if code:
        print(message, file=sys.stderr)
        return code
    sys.stdout.buffer.write(output)
    sys.stdout.buffer.flush()
    return 0


if __name__ == "__main__":
    sys.exit(main())
