"""Where the cursor is in unfinished params JSON, and the words the docs give for it (keys, nested fields, the
entity's field names in select/filter/order)."""

from __future__ import annotations

import pytest

from b24explorer.core import completion
from b24explorer.core.completion import CursorContext, cursor_context, suggestions
from b24explorer.core.reference import reference_catalog


def at_end(text: str) -> CursorContext | None:
    return cursor_context(text, len(text))


@pytest.mark.parametrize(("text", "path", "role", "prefix", "in_array"), [
    ('{"fil', (), "key", "fil", False),
    ('{"a": 1, ', (), "key", "", False),
    ('{"a": 1, fi', (), "key", "fi", False),
    ('{\n  "select": ["TI', ("select",), "value", "TI", True),
    ('{"filter": {">=OPP', ("filter",), "key", ">=OPP", False),
    ('{"filter": [["ti', ("filter", 0), "value", "ti", True),
    ('{"fields": {"TITLE": "a \\" b", "', ("fields",), "key", "", False),
    ('{"rows": [{"PRICE": 1}, {"PRO', ("rows", 1), "key", "PRO", False),
])
def test_the_context_at_the_cursor(text, path, role, prefix, in_array) -> None:
    context = at_end(text)
    assert context is not None
    assert (context.path, context.role, context.prefix, context.in_array) == (path, role, prefix, in_array)


@pytest.mark.parametrize("text", ['{"a": 12', "fil", '{"a": "done"', '{"a": tr'])
def test_no_context_where_nothing_is_typed_from_a_list(text) -> None:
    context = at_end(text)
    assert context is None or (context.role == "value" and not context.in_array)


def test_a_filter_operator_is_kept_apart_from_the_word() -> None:
    context = at_end('{"filter": {"!>=DATE')
    assert context is not None
    assert (context.operator, context.word) == ("!>=", "DATE")


def test_suggestions_follow_the_method_and_the_place() -> None:
    catalog = reference_catalog()
    deal_list = catalog.get("crm.deal.list", 2)
    fields = completion.documented_fields(catalog, "crm.deal.list", 2)
    assert {"TITLE", "OPPORTUNITY", "STAGE_ID"} <= set(fields)
    assert not [f for f in fields if "..." in f]  # the docs' placeholders are no names
    assert suggestions(at_end('{"'), deal_list) == ["select", "filter", "order", "start"]
    assert suggestions(at_end('{"select": ["'), deal_list, fields) == fields
    assert suggestions(at_end('{"filter": {"'), deal_list, fields) == fields
    assert suggestions(at_end('{"start": "'), deal_list, fields) == []
    rows_set = catalog.get("crm.deal.productrows.set", 2)
    assert "PRODUCT_ID" in suggestions(at_end('{"id": 1, "rows": [{"'), rows_set)
    assert suggestions(at_end('{"'), None) == []


def test_the_portal_fields_method_and_answer_shapes() -> None:
    assert completion.fields_method("crm.deal.list") == "crm.deal.fields"
    assert completion.fields_method("crm.deal.fields") is None
    assert completion.fields_method("profile") is None
    assert completion.field_names_of_answer({"ID": {"type": "integer"}, "TITLE": {}}) == ["ID", "TITLE"]
    assert completion.field_names_of_answer({"fields": {"id": {}, "title": {}}}) == ["id", "title"]
    assert completion.field_names_of_answer([1, 2]) == []
