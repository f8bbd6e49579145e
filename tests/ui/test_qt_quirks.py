"""Quirks worked around in ui/qt.py answer what PySide itself would."""

from __future__ import annotations

import importlib
import sys
from pathlib import Path

import pytest


def _quicker_check():
    import b24explorer.ui.qt  # noqa: F401  (installs the quicker check)

    quicker = sys.modules["shibokensupport.feature"]._mod_uses_pyside
    assert getattr(quicker, "quicker", False)
    return quicker


@pytest.mark.parametrize("name", ["json", "dataclasses", "PySide6.QtCore", "qasync"])
def test_the_quicker_feature_check_answers_as_pysides_own(name: str) -> None:
    quicker = _quicker_check()
    module = importlib.import_module(name)
    assert quicker(module) == bool(quicker.original(module))  # PySide's own function, kept by the quicker one


@pytest.mark.parametrize("name", ["b24explorer.ui.qt", "b24explorer.ui.main_window", "b24explorer.core.lazyjson"])
def test_the_apps_own_modules_select_no_feature_as_in_the_frozen_app(name: str, tmp_path: Path) -> None:
    quicker = _quicker_check()
    module = importlib.import_module(name)
    assert quicker(module) is False
    # What PySide answers for a module whose source it cannot read, as in the frozen app (its modules have no .py).
    frozen_like = type(module)(name)
    frozen_like.__file__ = str(tmp_path.joinpath(*name.split(".")).with_suffix(".pyc"))
    assert quicker.original(frozen_like) is False
