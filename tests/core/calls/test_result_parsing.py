"""AjaxResult envelope parsing (v2 and v3 errors, time, total/next), over the lazy reader and plain json."""

from __future__ import annotations

import json

import pytest
from hypothesis import given, settings
from json_values import json_values

from b24explorer.core import AjaxResult, jsondoc


def make(body, status=200, api=2) -> AjaxResult:
    raw = body if isinstance(body, bytes) else json.dumps(body).encode()
    return AjaxResult(raw, status=status, method="m.x", params={"auth": "a"}, request_id="r", api=api)


@pytest.fixture(params=["lazy", "json"])
def parser_kind(request, monkeypatch) -> str:
    if request.param == "json":
        monkeypatch.setattr(jsondoc, "LAZY", False)
    return request.param


def test_success_envelope(parser_kind) -> None:
    res = make(
        {
            "result": [{"ID": "1"}],
            "total": "120",
            "next": 50,
            "time": {"start": 1.5, "operating": 2, "operating_reset_at": 9, "date_start": "d"},
        }
    )
    assert res.document.lazy is (parser_kind == "lazy")
    assert res.result == [{"ID": "1"}]
    assert res.total == 120
    assert res.next == 50
    assert res.is_more
    assert res.time.operating == 2.0
    assert res.time.operating_reset_at == 9.0
    assert res.time.date_start == "d"
    assert res.data == {
        "result": [{"ID": "1"}],
        "time": {"start": 1.5, "operating": 2, "operating_reset_at": 9, "date_start": "d"},
    }


def test_v2_error_envelope(parser_kind) -> None:
    res = make({"error": "0", "error_description": ""}, status=400)
    assert res.error.code == "JSSDK_RESPONSE_ERROR"
    assert res.error.message == "Some error in response"
    assert res.data is None
    assert res.total == 0
    assert not res.is_more
    assert res.error.request_info["params"] == {"auth": "***REDACTED***"}


def test_v3_error_envelope_with_validation(parser_kind) -> None:
    res = make(
        {
            "error": {
                "code": "BITRIX_REST_V3_EXCEPTION_VALIDATION_REQUESTVALIDATIONEXCEPTION",
                "message": "Error validating request object  ",
                "validation": [{"field": "id", "message": "Required field `id` is not specified"}, {"x": 1}],
            }
        },
        status=400,
        api=3,
    )
    assert (
        res.error.message == 'Error validating request object. Required field `id` is not specified{"x": 1}'
    )
    assert res.error.validation[0]["field"] == "id"
    assert res.error.status == 400


def test_bare_document_is_the_result(parser_kind) -> None:
    res = make({"openapi": "3.0.0", "paths": {"/a.b": {}}})
    assert res.is_success
    assert res.result["paths"] == {"/a.b": {}}


def test_not_json_raises_decode_failure_with_position(parser_kind) -> None:
    with pytest.raises(jsondoc.JsonDecodeFailure) as info:
        make(b'{"result": [1, 2')
    assert info.value.line == 1
    assert info.value.column is not None


def test_document_pointer_and_materialize() -> None:
    doc = jsondoc.parse(b'{"result": {"items": [{"id": 5}]}, "time": {}}')
    assert jsondoc.materialize(doc.at_pointer("/result/items/0")) == {"id": 5}
    assert list(doc.keys()) == ["result", "time"]


_json = json_values(max_size=4, max_leaves=20)



@settings(max_examples=200, deadline=None)
@given(value=_json)
def test_lazy_parse_reads_what_json_loads_reads(value) -> None:
    raw = json.dumps(value).encode()
    doc = jsondoc.parse(raw)
    assert doc.to_python() == json.loads(raw)
    res = AjaxResult(json.dumps({"result": value, "time": {}}).encode(), status=200, method="m")
    assert res.result == value
