"""Where the files shipped with the app (its icons, the reference catalog and its license) are, wherever it runs:

- installed from a wheel: inside the package, ``b24explorer/resources/`` (``setup.py`` copies the repository's
  ``resources/`` there when the wheel is built);
- frozen (PyInstaller): ``resources/`` at the bundle's root (``packaging/b24explorer.spec``);
- from a checkout (or an editable install): the repository's ``resources/`` beside the package.
"""

from __future__ import annotations

import sys
from pathlib import Path

PACKAGE = Path(__file__).resolve().parent.parent  # the b24explorer package


def resource_roots() -> list[Path]:
    """The places looked in, in order: the package's own, the frozen bundle's, the checkout's."""
    roots = [PACKAGE / "resources"]
    bundle = getattr(sys, "_MEIPASS", None)
    if bundle:
        roots.append(Path(bundle) / "resources")
    roots.append(PACKAGE.parent / "resources")
    return list(dict.fromkeys(roots))


def resource_path(*parts: str) -> Path | None:
    """The shipped file ``resources/<parts…>``, or None when this installation lacks it."""
    for root in resource_roots():
        candidate = root.joinpath(*parts)
        if candidate.is_file():
            return candidate
    return None
