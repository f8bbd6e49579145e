"""ui/qt.py hands out Qt names on first use (module __getattr__): every exported name resolves, others do not."""

from __future__ import annotations

import pytest

from b24explorer.ui import qt


def test_every_exported_name_resolves() -> None:
    assert [name for name in qt.__all__ if getattr(qt, name, None) is None] == []


def test_a_name_it_does_not_export_is_an_attribute_error() -> None:
    with pytest.raises(AttributeError):
        _ = qt.QGraphicsView
