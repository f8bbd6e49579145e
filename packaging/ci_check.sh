#!/usr/bin/env bash
# Build the Linux one-folder app, its .tar.gz and .deb, then prove them (tests/packaging, marker `packaging`):
#   - the frozen --self-test without a D-Bus session: a clear "no keyring" line, this-run-only mode, exit 0;
#   - the frozen --self-test under a private D-Bus session with an unlocked gnome-keyring: the Secret Service
#     backend, a test entry saved, read back and deleted;
#   - the .deb installed with dpkg into a clean root, its /usr/bin/b24explorer launcher running --self-test;
#     its contents, control fields and (as root) apt's dependency resolution; the .tar.gz layout;
#   - the bundle: size within the 200 MB budget, PySide6 only, keyring metadata, resources, no UPX.
# build.py prints the one-folder size against the budget and the frozen vs from-source start-up.
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PY:-.venv/bin/python}
export QT_QPA_PLATFORM=offscreen
unset DISPLAY WAYLAND_DISPLAY || true
rm -rf dist/b24explorer dist/b24explorer*.deb dist/b24explorer-*.tar.gz
"$PY" packaging/build.py --current-venv --package
B24X_PACKAGING_DIST=dist "$PY" -m pytest tests/packaging -m packaging -p no:cacheprovider -v -s -rs
