"""Entry point of the frozen app (PyInstaller runs this file as the program's __main__).

Started as ``b24x`` (the .deb's and the tarball's symlink) it is the command line; otherwise the window, or the
self-test with ``--self-test``.
"""

import os
import sys
from pathlib import Path

# qasync picks its Qt binding at import time; the frozen app ships PySide6 only.
os.environ.setdefault("QT_API", "pyside6")


def main() -> int:
    argv = sys.argv[1:]
    if Path(sys.argv[0]).stem == "b24x":
        from b24explorer.cli import main as cli_main

        return cli_main(argv)
    if "--self-test" in argv:
        from b24explorer.selftest import run

        return run(argv)
    from b24explorer.app import main as app_main

    return app_main(argv)


if __name__ == "__main__":
    sys.exit(main())
