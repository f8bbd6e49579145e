"""The lazy JSON tree model: same content as json.loads, nodes opened only on demand, big arrays as ranges."""

from __future__ import annotations

import json
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from b24explorer.ui import json_model
from b24explorer.ui import json_node as jn
from b24explorer.ui.json_model import KEY, TYPE, VALUE, JsonTreeModel
from b24explorer.ui.qt import QModelIndex, QTreeView

json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**63), max_value=2**63 - 1)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(),
    lambda children: st.lists(children, max_size=6) | st.dictionaries(st.text(max_size=8), children, max_size=6),
    max_leaves=40,
)


def rebuild(model: JsonTreeModel, parent: QModelIndex, is_object: bool, start: int = 0) -> Any:
    """The value the model shows under `parent`, read back only through the model's API."""
    out: Any = {} if is_object else []
    for row in range(model.rowCount(parent)):
        index = model.index(row, 0, parent)
        if model.is_range(index):
            out.extend(rebuild(model, index, False, start + len(out)))
            continue
        kind = model.index(row, TYPE, parent).data()
        if model.hasChildren(index):
            value = rebuild(model, index, kind.startswith("object"))
        else:
            value = jn.to_python(model.value_at(index))
        if is_object:
            out[model.path_of(index)[-1]] = value
        else:
            assert model.path_of(index)[-1] == start + len(out)
            out.append(value)
    return out


def model_content(model: JsonTreeModel) -> Any:
    root = model.root_value
    if not jn.is_container(root):
        return jn.to_python(model.value_at(model.index(0, 0)))
    return rebuild(model, QModelIndex(), jn.is_object(root))


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(value=json_values)
def test_walking_the_model_gives_back_the_value(qapp: Any, value: Any) -> None:
    raw = json.dumps(value).encode()
    expected = json.loads(raw)
    for root in (jn.parse_lazy(raw), json.loads(raw)):  # over a lazy document and plain Python
        model = JsonTreeModel(root)
        assert model_content(model) == expected


def test_big_array_is_shown_as_ranges_and_reads_back_exactly(qapp: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(json_model, "BUCKET", 10)  # nested ranges with small numbers: 2,345 → 1000s → 100s → 10s
    value = {"result": [{"ID": str(i), "N": i} for i in range(2_345)], "total": 2_345}
    raw = json.dumps(value).encode()
    model = JsonTreeModel(jn.parse_lazy(raw))
    result = model.index(0, 0)
    assert model.rowCount(result) == 3  # [0 … 999], [1000 … 1999], [2000 … 2344]
    last = model.index(2, 0, result)
    assert model.is_range(last)
    assert last.data() == "[2000 … 2344]"
    assert model.index(2, VALUE, result).data() == "345 items"
    assert model_content(model) == value
    hit = model.index_for_path(("result", 2_344, "N"))
    assert hit.isValid()
    assert model.value_at(hit) == 2_344
    assert model.path_of(hit) == ("result", 2_344, "N")
    assert not model.index_for_path(("result", 2_345)).isValid()
    assert not model.index_for_path(("nope",)).isValid()


def test_children_are_created_only_when_expanded(qtbot: Any) -> None:
    raw = json.dumps({"result": [{"ID": str(i), "TAGS": [1, 2]} for i in range(3_000)], "time": {"start": 1.5}})
    model = JsonTreeModel(jn.parse_lazy(raw.encode()))
    view = QTreeView()
    qtbot.addWidget(view)
    view.setUniformRowHeights(True)
    view.setModel(model)
    view.show()
    qtbot.waitExposed(view)
    assert model.materialised_count() == 1  # only the root: painting the first level opens nothing
    result = model.index(0, 0)
    assert model.hasChildren(result)
    assert model.materialised_count() == 1  # asking whether it can expand does not open it
    view.expand(result)
    qtbot.wait(1)
    assert model.materialised_count() == 2
    assert model.rowCount(result) == 30  # thirty ranges of 100, not 3,000 rows
    assert model.index(29, 0, result).data() == "[2900 … 2999]"
    first_range = model.index(0, 0, result)
    view.expand(first_range)
    qtbot.wait(1)
    assert model.materialised_count() == 3
    assert model.rowCount(first_range) == 100
    deal = model.index(7, 0, first_range)
    view.expand(deal)
    qtbot.wait(1)
    assert model.materialised_count() == 4
    assert model.index(0, VALUE, deal).data() == "7"
    assert model.index(0, KEY, deal).data() == "ID"


def test_columns_show_key_value_and_type(qapp: Any) -> None:
    model = JsonTreeModel(jn.parse_lazy(b'{"s":"a\\nb","n":1.5,"b":true,"z":null,"o":{"x":1},"a":[1,"y"],"e":[]}'))
    rows = {model.index(r, KEY).data(): (model.index(r, VALUE).data(), model.index(r, TYPE).data())
            for r in range(model.rowCount())}
    assert rows == {
        "s": ("a⏎ b", "string"),
        "n": ("1.5", "number"),
        "b": ("true", "boolean"),
        "z": ("null", "null"),
        "o": ('{x: 1}', "object (1)"),
        "a": ('[1, "y"]', "array (2)"),
        "e": ("[]", "array (0)"),
    }
    assert [model.headerData(c, json_model.Qt.Orientation.Horizontal) for c in range(3)] == ["Key", "Value", "Type"]
    assert model.index(5, KEY).data() == "a"
    assert model.index(1, KEY, model.index(5, 0)).data() == "[1]"


def test_scalar_root_shows_one_row(qapp: Any) -> None:
    model = JsonTreeModel("2024-05-01T10:00:00+03:00")
    assert model.rowCount() == 1
    assert model.index(0, VALUE).data() == "2024-05-01T10:00:00+03:00"
    assert model.path_of(model.index(0, 0)) == ()


def test_append_items_grows_the_root_list_across_the_range_boundary(qapp: Any) -> None:
    model = JsonTreeModel([])
    for start in range(0, 2_500, 500):  # pages arriving one after another
        model.append_items([{"ID": str(i)} for i in range(start, start + 500)])
    assert len(model.root_value) == 2_500
    assert model.rowCount() == 25
    assert model.index(24, 0).data() == "[2400 … 2499]"
    index = model.index_for_path((2_499, "ID"))
    assert index.data() == "ID"
    assert model.value_at(index) == "2499"
    model.append_items([{"ID": "2500"}])
    assert model.rowCount() == 26
    model.append_items([{"ID": "2501"}])
    tail = model.index(25, 0)
    assert model.rowCount(tail) == 2
    assert model.value_at(model.index_for_path((2_501, "ID"))) == "2501"
    with pytest.raises(TypeError):
        JsonTreeModel({"a": 1}).append_items([1])


@pytest.mark.parametrize(
    ("path", "plain", "jq"),
    [
        (("result", 3, "TITLE"), "result[3].TITLE", ".result[3].TITLE"),
        ((3, "a b"), '[3]["a b"]', '.[3]["a b"]'),
        (("ключ", "x-y"), '["ключ"]["x-y"]', '.["ключ"]["x-y"]'),
        ((), "", "."),
    ],
)
def test_path_formats(path: jn.Path, plain: str, jq: str) -> None:
    assert jn.format_path(path) == plain
    assert jn.format_path(path, jq=True) == jq


@given(st.text())
def test_a_string_in_a_preview_reads_as_json_writes_it(text: str) -> None:
    from b24explorer.ui.json_model import _short

    written = json.dumps(text, ensure_ascii=False)
    assert _short(text) == (written if len(written) <= 40 else written[:39] + "…")
