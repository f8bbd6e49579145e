"""Entry point of the frozen app (PyInstaller runs this file as the program's __main__)."""

import os
import sys

# qasync picks its Qt binding at import time; the frozen app ships PySide6 only.
os.environ.setdefault("QT_API", "pyside6")


def main() -> int:
    argv = sys.argv[1:]
    if "--self-test" in argv:
        from b24explorer.selftest import run

        return run(argv)
    from b24explorer.app import main as app_main

    return app_main(argv)


if __name__ == "__main__":
    sys.exit(main())
