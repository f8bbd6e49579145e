"""Copy as code of the v3 form: the httpx and curl snippets run against the sandbox and get the v3 answer."""

from __future__ import annotations

import importlib
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from migration_portal import Portal

from b24explorer.core import export as ex
from b24explorer.core.migration import SchemaSet, translate
from b24explorer.core.webhook import Webhook

V2_CALLS = [
    ("tasks.task.get", {"taskId": 6, "select": ["ID", "TITLE", "RESPONSIBLE_ID"]}),
    ("tasks.task.list", {"select": ["ID", "TITLE"], "filter": {">ID": 20, "<=ID": 24}, "order": {"ID": "desc"}}),
]


def v3_request(method: str, params: dict, schemas: SchemaSet) -> ex.CallRequest:
    translation = translate(method, params, schemas)
    assert translation.clean
    return ex.CallRequest(method, translation.params, api=3, request_id="migrate-1")


@pytest.mark.parametrize(("method", "params"), V2_CALLS)
def test_httpx_export_of_the_v3_form_runs(tmp_path: Path, portal: Portal, schemas: SchemaSet, method: str,
                                          params: dict) -> None:
    hook = Webhook.parse(portal.sb.webhook_url)
    request = v3_request(method, params, schemas)
    text = ex.to_httpx(hook, request)
    assert hook.secret not in text
    script = tmp_path / "snippet.py"
    script.write_text(text)
    out = subprocess.run([sys.executable, str(script)], env={**os.environ, "B24_WEBHOOK": hook.url},
                         capture_output=True, text=True, timeout=60, check=True)
    assert json.loads(out.stdout)["result"] == portal.call_v3(method, request.params)
    assert portal.sb.counters.requests(method) >= 2


@pytest.mark.skipif(shutil.which("curl") is None, reason="curl is not installed")
@pytest.mark.parametrize(("method", "params"), V2_CALLS)
def test_curl_export_of_the_v3_form_runs(portal: Portal, schemas: SchemaSet, method: str, params: dict) -> None:
    hook = Webhook.parse(portal.sb.webhook_url)
    request = v3_request(method, params, schemas)
    assert hook.secret not in ex.to_curl(hook, request)
    text = ex.to_curl(hook, request, include_secret=True)
    command = " ".join(line.rstrip("\\") for line in text.splitlines() if not line.startswith("#"))
    out = subprocess.run(["bash", "-c", command], capture_output=True, text=True, timeout=60, check=True)
    answer = json.loads(out.stdout)["result"]
    assert answer == portal.call_v3(method, request.params)
    key = "item" if method.endswith(".get") else "items"
    assert answer[key]


@pytest.mark.parametrize(("method", "params"), V2_CALLS)
def test_b24pysdk_export_of_the_v3_form_runs(portal: Portal, schemas: SchemaSet, method: str, params: dict,
                                             monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture) -> None:
    pytest.importorskip("b24pysdk")
    hook = Webhook.parse(portal.sb.webhook_url)
    request = v3_request(method, params, schemas)
    text = ex.to_b24pysdk(hook, request)
    # the SDK hard-codes https://; aim it at the plain-http loopback portal (its /api/ segment it adds itself)
    caller = importlib.import_module("b24pysdk.api.callers.call_method")
    monkeypatch.setattr(caller._MethodCaller, "_base_url", property(lambda self: f"{portal.sb.base_url}/rest"))
    monkeypatch.setenv("B24_WEBHOOK", hook.url)
    exec(compile(text, "snippet.py", "exec"), {"__name__": "__main__"})  # the generated snippet, as a user runs it
    answer = json.loads(capsys.readouterr().out)
    assert answer["result"] == portal.call_v3(method, request.params)
    assert portal.sb.counters.requests(method) == 2  # the snippet's call went to the v3 route, as did ours


def test_sdk_exports_of_the_v3_form_call_v3_and_hide_the_secret(portal: Portal, schemas: SchemaSet) -> None:
    hook = Webhook.parse(portal.sb.webhook_url)
    request = v3_request(*V2_CALLS[0], schemas)
    js = ex.to_js(hook, request)
    assert "$b24.actions.v3.call.make({" in js
    assert '"id": 6' in js
    assert "taskId" not in js
    py = ex.to_b24pysdk(hook, request)
    assert "api_method='tasks.task.get'" in py
    assert "prefer_version=3" in py
    assert "'id': 6" in py
    for fmt in ex.Format:
        text = ex.export_code(fmt, hook, request)
        assert hook.secret not in text, fmt
        assert ex.PLACEHOLDER in text, fmt
