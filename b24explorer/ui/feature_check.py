"""PySide6's per-import check, made quick; Qt-free, so the app's entry module can apply it before its own imports.

PySide6 asks of every module imported after it whether its source mentions "PySide6" (for its ``__feature__``
switches), through ``inspect.getsource`` — linecache and a tokenizer — at about a third of a millisecond a module.
Reading the file's bytes answers the same question, and the app's own modules need no reading at all: they never
select a feature, so they get the "no" that the frozen app (which has no sources to read) always got. Importing this
module applies it when PySide is already loaded
(a host that imported PySide before the app, as the start benchmark does); ``ui.qt`` applies it when it loads
PySide itself.
"""

from __future__ import annotations

import sys
from typing import Any

OWN_PACKAGE = __name__.split(".")[0]


def quicken() -> None:
    """Replace PySide's check with the quicker one, if PySide is loaded and it is not done yet."""
    feature = sys.modules.get("shibokensupport.feature")
    original = getattr(feature, "_mod_uses_pyside", None)
    if original is None or getattr(original, "quicker", False):
        return

    def uses_pyside(module: Any) -> bool:
        name = getattr(module, "__name__", "")
        if name == OWN_PACKAGE or name.startswith(OWN_PACKAGE + "."):
            # The app never selects a PySide feature: "no" without reading its source, which is also the answer the
            # frozen app (no sources to read) has always got.
            return False
        path = getattr(module, "__file__", None)
        if not isinstance(path, str) or not path.endswith(".py"):
            return bool(original(module))  # no source file of its own: PySide's own answer
        try:
            with open(path, "rb") as source:
                return b"PySide6" in source.read()
        except OSError:
            return bool(original(module))

    uses_pyside.quicker = True  # type: ignore[attr-defined]
    uses_pyside.original = original  # type: ignore[attr-defined]
    feature._mod_uses_pyside = uses_pyside  # type: ignore[union-attr]


quicken()
