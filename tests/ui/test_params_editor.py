"""The params editor: live validation with line and column, format/compact, templates, highlighting."""

from __future__ import annotations

import json

import pytest

from b24explorer.ui.params_editor import ParamsEditor, ParamsInvalid, parse_params
from b24explorer.ui.qt import QColor


@pytest.fixture
def editor(qtbot) -> ParamsEditor:
    widget = ParamsEditor()
    qtbot.addWidget(widget)
    widget.show()
    return widget


@pytest.mark.parametrize(
    ("text", "line", "column"),
    [
        ('{"a": 1,}', 1, 9),
        ('{\n  "filter": {">ID": 0\n}', 3, 2),
        ("{'a': 1}", 1, 2),
        ('{"a": tru}', 1, 7),
    ],
)
def test_invalid_json_is_located(text: str, line: int, column: int) -> None:
    with pytest.raises(ParamsInvalid) as caught:
        parse_params(text)
    assert (caught.value.problem.line, caught.value.problem.column) == (line, column)


def test_params_must_be_an_object_or_array() -> None:
    with pytest.raises(ParamsInvalid, match="JSON object"):
        parse_params('"just a string"')
    assert parse_params("") == {}
    assert parse_params("  [1, 2]") == [1, 2]


def test_live_validation_follows_typing(editor: ParamsEditor, qtbot) -> None:
    states = []
    editor.validity_changed.connect(states.append)
    qtbot.keyClicks(editor.editor, '{"id": ')
    qtbot.waitUntil(lambda: "line 1, column 8" in editor.status_label.text())
    assert not editor.is_valid()
    qtbot.keyClicks(editor.editor, "1}")
    qtbot.waitUntil(lambda: "valid JSON" in editor.status_label.text())
    assert editor.params() == {"id": 1}
    assert states == [False, True]


def test_format_and_compact_round_trip(editor: ParamsEditor) -> None:
    editor.set_text('{"select":["ID","TITLE"],"filter":{">ID":0,"TITLE":"Ünïcode"}}')
    editor.format_json()
    pretty = editor.text()
    assert pretty.splitlines()[1] == '  "select": ['
    assert "Ünïcode" in pretty  # not \\u-escaped
    editor.compact_json()
    assert editor.text() == '{"select":["ID","TITLE"],"filter":{">ID":0,"TITLE":"Ünïcode"}}'
    editor.editor.undo()  # the reformat is one undo step
    assert editor.text() == pretty


def test_format_of_invalid_json_keeps_the_text_and_points_at_the_problem(editor: ParamsEditor) -> None:
    editor.set_text('{\n  "a": [1, 2\n}')
    editor.format_json()
    assert editor.text() == '{\n  "a": [1, 2\n}'
    assert "Invalid JSON at line 3" in editor.status_label.text()
    assert editor.editor.textCursor().blockNumber() == 2


def test_template_button_restores_the_methods_template(editor: ParamsEditor) -> None:
    template = json.dumps({"select": ["ID"], "filter": {}}, indent=2)
    editor.set_template(template)
    editor.set_text('{"mine": true}')
    editor.template_button.click()
    assert json.loads(editor.text()) == {"select": ["ID"], "filter": {}}
    editor.set_template("")
    assert not editor.template_button.isEnabled()


def test_highlighting_colours_keys_and_strings_differently(editor: ParamsEditor, qtbot) -> None:
    editor.set_text('{"key": "value", "n": 12, "ok": true}')
    block = editor.editor.document().firstBlock()
    formats = {(r.start, r.length): r.format.foreground().color() for r in block.layout().formats()}
    key_colour = formats[(1, 5)]
    value_colour = formats[(8, 7)]
    assert isinstance(key_colour, QColor)
    assert key_colour != value_colour
