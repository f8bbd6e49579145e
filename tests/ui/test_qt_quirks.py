"""Quirks worked around in ui/qt.py answer what PySide itself would."""

from __future__ import annotations

import importlib
import sys

import pytest


@pytest.mark.parametrize("name", ["b24explorer.ui.qt", "b24explorer.ui.main_window", "b24explorer.core.lazyjson",
                                  "json", "dataclasses", "PySide6.QtCore"])
def test_the_quicker_feature_check_answers_as_pysides_own(name: str) -> None:
    import b24explorer.ui.qt  # noqa: F401  (installs the quicker check)

    feature = sys.modules["shibokensupport.feature"]
    quicker = feature._mod_uses_pyside
    assert getattr(quicker, "quicker", False)
    module = importlib.import_module(name)
    assert quicker(module) == bool(quicker.original(module))  # PySide's own function, kept by the quicker one
