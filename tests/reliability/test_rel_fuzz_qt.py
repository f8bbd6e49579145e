"""Fuzzing of the window's data widgets: the lazy JSON tree over arbitrary JSON, the params editor's validation."""

from __future__ import annotations

import json
import math
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from rel_stats import count, examples

from b24explorer.ui import json_node as jn
from b24explorer.ui.json_model import BUCKET, TYPE, VALUE, span_for
from b24explorer.ui.params_editor import ParamsEditor, parse_params
from b24explorer.ui.qt import QModelIndex
from b24explorer.ui.response_view import ResponseView


def qt_fuzz(n: int) -> settings:
    return settings(max_examples=examples(n), deadline=None,
                    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])

# --- arbitrary JSON ---------------------------------------------------------------------------------------------

any_text = st.text(alphabet=st.characters(), max_size=12)  # lone surrogates included: JSON can escape them
json_scalars = st.one_of(
    st.none(), st.booleans(), st.integers(), st.integers(-(2**70), 2**70),
    st.floats(allow_nan=False, allow_infinity=False), any_text,
)
json_values = st.recursive(
    json_scalars,
    lambda children: st.one_of(st.lists(children, max_size=6), st.dictionaries(any_text, children, max_size=6)),
    max_leaves=40,
)


NOT_JSON = object()


def dump(value: Any, *, ascii_only: bool) -> bytes:
    return json.dumps(value, ensure_ascii=ascii_only).encode("utf-8", "surrogatepass")


def same(a: Any, b: Any) -> bool:
    """Equality that tells 1 from 1.0 and True from 1 (JSON types), and compares floats exactly."""
    if type(a) is not type(b):
        return False
    if isinstance(a, dict):
        return list(a) == list(b) and all(same(a[k], b[k]) for k in a)
    if isinstance(a, list):
        return len(a) == len(b) and all(same(x, y) for x, y in zip(a, b, strict=True))
    if isinstance(a, float):
        return a == b and math.copysign(1, a) == math.copysign(1, b)
    return bool(a == b)


def rebuild(model: Any, parent: Any) -> list[tuple[Any, Any]]:
    """(key, value) pairs under `parent`, read back through the model's own API (ranges flattened)."""
    pairs: list[tuple[Any, Any]] = []
    for row in range(model.rowCount(parent)):
        index = model.index(row, 0, parent)
        assert index.isValid()
        assert model.parent(index) == parent
        if model.is_range(index):
            pairs.extend(rebuild(model, index))
            continue
        key = model.path_of(index)[-1] if model.path_of(index) else None
        kind = model.data(model.index(row, TYPE, parent))
        model.data(model.index(row, VALUE, parent))  # every cell answers
        if kind.startswith("object"):
            value: Any = dict(rebuild(model, index))
            assert kind == f"object ({len(value)})"
        elif kind.startswith("array"):
            value = [v for _, v in rebuild(model, index)]
            assert kind == f"array ({len(value)})"
        else:
            assert model.rowCount(index) == 0
            assert not model.hasChildren(index)
            value = jn.to_python(model.value_at(index))
        assert model.hasChildren(index) == (kind.startswith(("object", "array")) and kind[-3:] != "(0)")
        pairs.append((key, value))
    return pairs


def shown(view: ResponseView) -> Any:
    model = view.model
    root = model.root_value
    if jn.is_object(root):
        return dict(rebuild(model, QModelIndex()))
    if jn.is_array(root):
        return [v for _, v in rebuild(model, QModelIndex())]
    assert model.rowCount(QModelIndex()) == 1
    return jn.to_python(model.value_at(model.index(0, 0, QModelIndex())))


@pytest.fixture
def view(qtbot: Any) -> ResponseView:
    widget = ResponseView()
    qtbot.addWidget(widget)
    widget.resize(600, 400)
    widget.show()
    return widget


@qt_fuzz(100)
@given(json_values, st.booleans())
def test_fuzz_tree_model_shows_what_json_loads_reads(view: ResponseView, value: Any, ascii_only: bool) -> None:
    count("fuzz.tree_model")
    raw = dump(value, ascii_only=ascii_only)
    try:
        # strict UTF-8: json.loads(bytes) would decode with surrogatepass and accept what a body may not hold
        expected = json.loads(raw.decode("utf-8"))
    except (ValueError, UnicodeDecodeError):
        expected = NOT_JSON  # a lone surrogate written raw: not valid UTF-8, shown as text
    view.show_result(raw)
    if expected is NOT_JSON:
        assert view.model.rowCount(QModelIndex()) == 0
        return
    got = shown(view)
    assert same(got, expected), f"{got!r} != {expected!r}"
    copied = view.subtree_json(QModelIndex())
    assert same(json.loads(copied), expected)
    if view.model.rowCount(QModelIndex()):
        view.expand_all_below(view.model.index(0, 0, QModelIndex()))


@qt_fuzz(60)
@given(json_values)
def test_fuzz_tree_model_over_the_cores_lazy_document(view: ResponseView, value: Any) -> None:
    """As the window shows a call's answer: an AjaxResult whose lazy document feeds the tree."""
    from b24explorer.core.result import AjaxResult

    count("fuzz.tree_model")
    raw = json.dumps({"result": value, "time": {"start": 1.0}}).encode("utf-8", "surrogatepass")
    try:
        expected = json.loads(raw)
    except (ValueError, UnicodeDecodeError):
        return
    view.show_result(AjaxResult(raw, status=200, method="fuzz.get"))
    assert same(shown(view), expected)


@qt_fuzz(80)
@given(st.binary(max_size=200) | st.text(max_size=80).map(lambda s: s.encode("utf-8", "surrogatepass")))
def test_fuzz_tree_model_any_bytes(view: ResponseView, raw: bytes) -> None:
    """Any body: shown as a tree when it is JSON, as text otherwise; never a crash."""
    count("fuzz.tree_model")
    view.show_result(raw)
    try:
        expected = json.loads(raw)
    except (ValueError, UnicodeDecodeError):
        return
    assert same(shown(view), expected)


def test_tree_model_big_arrays_use_ranges(view: ResponseView) -> None:
    n = BUCKET * BUCKET + BUCKET // 2  # two levels of ranges
    value = {"result": [{"ID": str(i), "n": i} for i in range(n)], "total": n}
    view.show_result(json.dumps(value).encode())
    assert same(shown(view), value)
    result = view.model.index(0, 0, QModelIndex())
    span = span_for(n)
    assert span == BUCKET * BUCKET
    assert view.model.rowCount(result) == -(-n // span)
    assert all(view.model.is_range(view.model.index(r, 0, result)) for r in range(view.model.rowCount(result)))


# --- the params editor's validation ----------------------------------------------------------------------------

json_ish = st.one_of(
    json_values.map(lambda v: json.dumps(v, indent=st_indent(v))),
    st.text(alphabet=st.sampled_from(list('{}[]":,0123456789.eE+-truefalsn \n\t\r\\/ué😀\u0301\u2028\u2029\u00a0')),
            max_size=60),
    st.text(max_size=60),
)


def st_indent(value: Any) -> int | None:
    return 2 if isinstance(value, dict | list) and len(value) % 2 else None


def expected_problem(text: str) -> tuple[int, int] | None:
    """None when the editor must accept `text`, else the (line, column) json.loads reports."""
    if not text.strip():
        return None
    try:
        value = json.loads(text)
    except json.JSONDecodeError as exc:
        return exc.lineno, exc.colno
    return None if isinstance(value, dict | list) else (1, 1)


@pytest.fixture
def editor(qtbot: Any) -> ParamsEditor:
    widget = ParamsEditor()
    qtbot.addWidget(widget)
    widget.show()
    return widget


@qt_fuzz(150)
@given(json_ish)
def test_fuzz_params_editor_validation(editor: ParamsEditor, text: str) -> None:
    """Any text: no crash; valid iff json.loads accepts it (as an object or array; blank means {}); an error
    names the line and column json.loads names, and "go to problem" puts the cursor on that character."""
    count("fuzz.params_editor")
    editor.set_text(text)
    held = editor.text()
    line_breaks = text.replace("\r\n", "\n").replace("\r", "\n").replace("\u2029", "\n")
    assert held in (line_breaks, line_breaks.removeprefix("\ufeff")), "the editor changed the text"
    want = expected_problem(held)
    problem = editor.problem()
    assert editor.is_valid() == (want is None)
    if want is None:
        assert problem is None
        assert parse_params(held) == (json.loads(held) if held.strip() else {})
        return
    assert problem is not None
    assert (problem.line, problem.column) == want
    assert f"line {want[0]}, column {want[1]}" in editor.status_label.text()
    editor.goto_problem()
    cursor = editor.editor.textCursor()
    line_text = held.split("\n")[want[0] - 1]
    before = line_text[: want[1] - 1]
    assert cursor.blockNumber() == want[0] - 1
    assert cursor.positionInBlock() == len(before.encode("utf-16-le")) // 2, "cursor not on the error"


# --- the editors keep the user's data ----------------------------------------------------------------------------

# Text as people paste it: non-breaking and other unusual spaces, line separators, accents, emoji.
pasted_text = st.text(alphabet=st.sampled_from(list("aZ09 .,-_\u00a0\u2007\u202f\u2028\u3000\u0301éЖ€😀\t")),
                      max_size=12)
params_values = st.dictionaries(st.sampled_from(["TITLE", "COMMENTS", "NAME", ">ID", "%TITLE"]),
                                st.one_of(pasted_text, st.integers(0, 10**6), st.lists(pasted_text, max_size=3)),
                                min_size=1, max_size=4)


@pytest.fixture
def editors(qtbot: Any) -> Any:
    from b24explorer.ui.batch_editor import BatchEditor
    from b24explorer.ui.list_all import ListAllPanel

    params = ParamsEditor()
    batch = BatchEditor(lambda: None, ResponseView())
    listing = ListAllPanel(lambda: None, ResponseView())
    for widget in (params, batch, listing):
        qtbot.addWidget(widget)
    return params, batch, listing


@qt_fuzz(60)
@given(params_values)
def test_fuzz_editors_send_exactly_what_was_typed(editors: Any, params: dict[str, Any]) -> None:
    """The params editor, the batch editor and the list-all params read back exactly the JSON put in: no
    character (a non-breaking space in a title, say) is changed on the way to the wire."""
    count("fuzz.editors")
    params_editor, batch, listing = editors
    params_editor.set_params(params)
    assert params_editor.params() == params
    commands = {"a": ["crm.deal.add", {"fields": params}], "b": ["crm.deal.list", {"filter": params}]}
    batch.set_commands(commands)
    assert batch.request().commands == commands
    listing.set_request("crm.deal.list", {"filter": params})
    assert listing.request().params == {"filter": params}


@qt_fuzz(30)
@given(params_values, st.sampled_from(["curl", "python", "b24pysdk", "js", "php"]))
def test_fuzz_exported_code_is_copied_and_saved_as_rendered(qtbot: Any, tmp_path_factory: Any,
                                                           params: dict[str, Any], fmt: str) -> None:
    from b24explorer.core.export import CallRequest
    from b24explorer.ui.export_dialog import ExportDialog
    from b24explorer.ui.qt import QApplication

    count("fuzz.editors")
    dialog = ExportDialog(CallRequest("crm.deal.add", {"fields": params}), None, fmt=fmt)
    qtbot.addWidget(dialog)
    dialog.copy()
    assert QApplication.clipboard().text() == dialog.code()
    saved = dialog.save_code(tmp_path_factory.mktemp("export") / f"code.{fmt}")
    assert saved.read_text(encoding="utf-8") == dialog.code()


@qt_fuzz(150)
@given(st.text(alphabet=st.characters(blacklist_categories=("Cs",)), max_size=40))
def test_fuzz_params_editor_checks_the_text_it_holds(editor: ParamsEditor, text: str) -> None:
    """``set_text`` checks a text as given only when the editor holds it unchanged: its verdict and the status
    line are what checking the editor's own text gives."""
    count("fuzz.params_editor_set_text")
    editor.set_text(text)
    want = expected_problem(editor.text())
    assert editor.is_valid() == (want is None)
    if want is not None:
        assert f"line {want[0]}, column {want[1]}" in editor.status_label.text()
