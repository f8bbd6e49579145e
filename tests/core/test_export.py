"""Copy as code: every format parses, sends the right request on the wire, and hides the secret by default."""

from __future__ import annotations

import ast
import json
import os
import shlex
import shutil
import subprocess
import sys
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs, unquote, urlsplit

import pytest

from b24explorer.core import export as ex
from b24explorer.core.webhook import Webhook

SECRET = "k7m2p9q4r8s1t6v3"
WEBHOOK = Webhook.parse(f"https://portal.example.com/rest/9/{SECRET}/")
PARAMS = {
    "filter": {">ID": 0, "STAGE_ID": "WON", "TITLE": "O'Brien \\ \"quoted\" $HOME `x`"},
    "select": ["ID", "TITLE"],
    "flag": True,
    "none": None,
    "price": 12.5,
}

REQUESTS = {
    "call-v2": ex.CallRequest("crm.deal.list", PARAMS, 2, "req-123"),
    "call-v3": ex.CallRequest("tasks.task.get", {"id": 1, "select": ["id", "title"]}, 3, "req-3"),
    "call-noparams": ex.CallRequest("profile"),
    "legacy-task": ex.CallRequest("task.item.getdata", {"TASKID": 1}, 2, "req-t"),
    "batch-labelled": ex.BatchRequest(
        {"a": ["crm.deal.get", {"id": 1}], "b": ["crm.deal.list", {"filter": {">ID": "$result[a][ID]"}}]},
        halt=True, api=2, request_id="req-b",
    ),
    "batch-list": ex.BatchRequest([["server.time", {}], ["profile"]], halt=False, api=2),
    "batch-v3": ex.BatchRequest({"t": ["tasks.task.get", {"id": 1}]}, api=3),
}


def _all_outputs(include_secret: bool) -> Iterator[tuple[str, ex.Format, str]]:
    for name, request in REQUESTS.items():
        for fmt in ex.Format:
            yield name, fmt, ex.export_code(fmt, WEBHOOK, request, include_secret=include_secret)


# ------------------------------------------------------------------ secrets


def test_no_secret_anywhere_unless_asked() -> None:
    for name, fmt, text in _all_outputs(include_secret=False):
        assert SECRET not in text, (name, fmt)
        assert ex.PLACEHOLDER in text, (name, fmt)
        assert "portal.example.com" in text, (name, fmt)
    for name, fmt, text in _all_outputs(include_secret=True):
        assert SECRET in text, (name, fmt)
        assert "WARNING" in text, (name, fmt)


def test_a_webhook_pasted_into_params_is_masked_too() -> None:
    request = ex.CallRequest("event.bind", {"event": "ONCRMDEALADD", "handler": WEBHOOK.url + "x"})
    for fmt in ex.Format:
        assert SECRET not in ex.export_code(fmt, WEBHOOK, request)


# ------------------------------------------------------------------ each output parses


@pytest.mark.parametrize("include_secret", [False, True])
def test_python_outputs_parse(include_secret: bool) -> None:
    for name, fmt, text in _all_outputs(include_secret):
        if fmt in (ex.Format.HTTPX, ex.Format.B24PYSDK):
            ast.parse(text, filename=f"{name}-{fmt}.py")


def test_b24pysdk_output_uses_the_sdks_real_api() -> None:
    text = ex.to_b24pysdk(WEBHOOK, REQUESTS["call-v2"])
    assert "from b24pysdk import BitrixWebhook, Client" in text
    assert "client = Client(token)" in text
    assert "token.call_method(api_method='crm.deal.list', params=params)" in text
    assert "prefer_version=3" in ex.to_b24pysdk(WEBHOOK, REQUESTS["call-v3"])
    with_secret = ex.to_b24pysdk(WEBHOOK, REQUESTS["call-v2"], include_secret=True)
    assert f"BitrixWebhook(domain='portal.example.com', webhook_token='9/{SECRET}')" in with_secret
    assert "token.call_batch(commands, halt=True)" in ex.to_b24pysdk(WEBHOOK, REQUESTS["batch-labelled"])


def test_b24pysdk_output_builds_a_real_token_from_the_environment(tmp_path: Path) -> None:
    # Run the generated token setup with the real SDK (no network: stop before the call).
    text = ex.to_b24pysdk(WEBHOOK, REQUESTS["call-v2"])
    setup = text.split("params = ")[0] + "print(token.domain, token.auth_token)\n"
    script = tmp_path / "setup.py"
    script.write_text(setup)
    env = {**os.environ, "B24_WEBHOOK": "http://127.0.0.1:8123/rest/api/4/abcdef1234567/"}
    out = subprocess.run([sys.executable, str(script)], env=env, capture_output=True, text=True, check=True,
                         timeout=60)
    assert out.stdout.split() == ["127.0.0.1:8123", "4/abcdef1234567"]


@pytest.mark.skipif(shutil.which("node") is None, reason="node is not installed")
@pytest.mark.parametrize("include_secret", [False, True])
def test_js_outputs_pass_node_check(tmp_path: Path, include_secret: bool) -> None:
    for name, fmt, text in _all_outputs(include_secret):
        if fmt is not ex.Format.JS:
            continue
        path = tmp_path / f"{name}.mjs"
        path.write_text(text)
        proc = subprocess.run(["node", "--check", str(path)], capture_output=True, text=True, timeout=60)
        assert proc.returncode == 0, (name, proc.stderr, text)


def test_js_output_shape() -> None:
    call = ex.to_js(WEBHOOK, REQUESTS["call-v2"])
    assert "B24Hook.fromWebhookUrl(process.env.B24_WEBHOOK ?? " in call
    assert "$b24.actions.v2.call.make({" in call
    assert 'method: "crm.deal.list"' in call
    assert 'requestId: "req-123"' in call
    assert "$b24.actions.v3.call.make({" in ex.to_js(WEBHOOK, REQUESTS["call-v3"])
    batch = ex.to_js(WEBHOOK, REQUESTS["batch-labelled"])
    assert "$b24.actions.v2.batch.make({" in batch
    assert '"isHaltOnError": true' in batch


def test_php_output_shape() -> None:
    text = ex.to_php(WEBHOOK, REQUESTS["call-v2"])
    assert text.startswith("<?php\n")
    assert "use Bitrix24\\SDK\\Services\\ServiceBuilderFactory;" in text
    assert "ServiceBuilderFactory::createServiceBuilderFromWebhook(getenv('B24_WEBHOOK') ?: " in text
    assert "$response = $b24->core->call('crm.deal.list', $params);" in text
    assert "'>ID' => 0," in text
    assert "'flag' => true," in text
    assert "'none' => null," in text
    assert "'price' => 12.5," in text
    # single-quoted PHP strings: only \ and ' need escaping; $ and " are literal there
    assert "'TITLE' => 'O\\'Brien \\\\ \"quoted\" $HOME `x`'," in text
    assert text.count("[") == text.count("]")
    assert text.count("(") == text.count(")")
    v3 = ex.to_php(WEBHOOK, REQUESTS["call-v3"])
    assert "use Bitrix24\\SDK\\Core\\Contracts\\ApiVersion;" in v3
    assert "$b24->core->call('tasks.task.get', $params, ApiVersion::v3);" in v3
    batch = ex.to_php(WEBHOOK, REQUESTS["batch-labelled"])
    assert "$b24->core->call('batch', $params);" in batch
    assert "'b' => 'crm.deal.list?filter%5B%3EID%5D=$result[a][ID]'," in batch


# ------------------------------------------------------------------ the wire: run curl and httpx for real


class _Recorder(BaseHTTPRequestHandler):
    seen: list[dict] = []  # noqa: RUF012

    def do_POST(self) -> None:
        length = int(self.headers.get("Content-Length", 0))
        body = self.rfile.read(length)
        parts = urlsplit(self.path)
        type(self).seen.append({"path": unquote(parts.path), "query": parse_qs(parts.query),
                                "body": json.loads(body), "type": self.headers.get("Content-Type")})
        answer = json.dumps({"result": {"ok": True}, "time": {"start": 0}}).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(answer)))
        self.end_headers()
        self.wfile.write(answer)

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def recorder() -> Iterator[tuple[Webhook, list[dict]]]:
    _Recorder.seen = []
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Recorder)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    hook = Webhook.parse(f"http://127.0.0.1:{server.server_address[1]}/rest/9/{SECRET}/")
    yield hook, _Recorder.seen
    server.shutdown()
    server.server_close()


def _expected(request: ex.CallRequest | ex.BatchRequest) -> tuple[str, dict, object]:
    method, body, query = ex._wire(request)
    prefix = "/rest/api/9/" if request.api == 3 else "/rest/9/"
    return f"{prefix}{SECRET}/{method}", {k: [v] for k, v in query.items()}, json.loads(json.dumps(body))


@pytest.mark.parametrize("name", list(REQUESTS))
def test_httpx_snippet_sends_the_request(tmp_path: Path, recorder: tuple[Webhook, list[dict]], name: str) -> None:
    hook, seen = recorder
    request = REQUESTS[name]
    script = tmp_path / "snippet.py"
    script.write_text(ex.to_httpx(hook, request))
    env = {**os.environ, "B24_WEBHOOK": hook.url}
    out = subprocess.run([sys.executable, str(script)], env=env, capture_output=True, text=True, timeout=60,
                         check=True)
    assert json.loads(out.stdout)["result"] == {"ok": True}
    path, query, body = _expected(request)
    assert seen == [{"path": path, "query": query, "body": body, "type": "application/json"}]
    if name == "legacy-task":
        assert query == {}  # task.* methods take no query string at all


@pytest.mark.skipif(shutil.which("curl") is None, reason="curl is not installed")
@pytest.mark.parametrize("name", ["call-v2", "call-v3", "batch-labelled", "batch-v3"])
def test_curl_snippet_sends_the_request(recorder: tuple[Webhook, list[dict]], name: str) -> None:
    hook, seen = recorder
    request = REQUESTS[name]
    text = ex.to_curl(hook, request, include_secret=True)
    command = " ".join(line.rstrip("\\") for line in text.splitlines() if not line.startswith("#"))
    out = subprocess.run(["bash", "-c", command], capture_output=True, text=True, timeout=60, check=True)
    assert json.loads(out.stdout)["result"] == {"ok": True}
    path, query, body = _expected(request)
    assert seen == [{"path": path, "query": query, "body": body, "type": "application/json"}]
    assert shlex.split(command)[0] == "curl"


def test_batch_wire_bodies() -> None:
    _, body, _ = ex._wire(REQUESTS["batch-labelled"])
    assert body == {"halt": 1, "cmd": {"a": "crm.deal.get?id=1",
                                       "b": "crm.deal.list?filter%5B%3EID%5D=$result[a][ID]"}}
    _, body, query = ex._wire(REQUESTS["batch-list"])
    assert body == {"halt": 0, "cmd": ["server.time?", "profile?"]}
    assert query == {}
    _, body, _ = ex._wire(REQUESTS["batch-v3"])
    assert body == [{"method": "tasks.task.get", "query": {"id": 1}, "as": "t"}]


# ------------------------------------------------------------------ bad input, save_response


def test_bad_input_is_refused() -> None:
    with pytest.raises(ValueError, match="api"):
        ex.export_code("curl", WEBHOOK, ex.CallRequest("profile", api=4))
    with pytest.raises(ValueError):
        ex.export_code("cobol", WEBHOOK, ex.CallRequest("profile"))
    with pytest.raises(ValueError, match="at least one"):
        ex.BatchRequest({})


def test_save_response_writes_the_exact_bytes(tmp_path: Path) -> None:
    raw = b'{"result": [1, 2, 3], "time": {"duration": 0.5}}\xe2\x80\xa6'
    target = ex.save_response(tmp_path / "out" / "answer.json", raw)
    assert target.read_bytes() == raw
    ex.save_response(target, b"{}")
    assert target.read_bytes() == b"{}"
    assert sorted(p.name for p in target.parent.iterdir()) == ["answer.json"]
