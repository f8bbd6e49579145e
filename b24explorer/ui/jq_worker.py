"""Runs one jq program over a JSON document in a separate process.

The jq library holds the GIL for the whole run (seconds on a 32 MB answer), so running it on a thread
would freeze the window; a child process keeps the UI live and can be killed to cancel.
Usage: `python -m b24explorer.ui.jq_worker PROGRAM INPUT OUTPUT` → jq's outputs, one JSON text per line,
in the OUTPUT file; exit 1 (run error) or 2 (bad program) with the message on stderr. Files, not pipes:
handing 32 MB to Qt as a QByteArray alone costs a quarter of a second on the UI thread.
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
    if len(args) != 3:
        print("usage: jq_worker PROGRAM INPUT OUTPUT", file=sys.stderr)
        return 2
    program, source, target = args
    with open(source, "rb") as f:
        document = f.read()
    code, output, message = run(program, document)
    if code:
        print(message, file=sys.stderr)
        return code
    with open(target, "wb") as f:
        f.write(output)
    return 0


if __name__ == "__main__":
    sys.exit(main())
