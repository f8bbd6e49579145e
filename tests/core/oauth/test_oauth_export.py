"""Copy as code for an app connection: `auth=<access token>` at the portal's /rest/, no token or client secret
in the output unless asked (then only the access token), and the snippets run against the sandbox."""

from __future__ import annotations

import ast
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from oauth_helpers import authorize

from b24explorer.core import export as ex
from b24explorer.core.oauth import OAuthApp, OAuthCredentials, TokenSet

APP = OAuthCredentials("https://portal.example.com", OAuthApp("local.abc.123", "client-secret-value-xyz"),
                       TokenSet("access-token-value-1", "refresh-token-value-2", expires=1.8e9, member_id="m1",
                                scopes=("crm", "task"), client_endpoint="https://portal.example.com/rest/",
                                user_id=1, status="L"))
REQUESTS = {
    "call-v2": ex.CallRequest("crm.deal.list", {"select": ["ID"], "note": "access-token-value-1"}, request_id="r1"),
    "call-v3": ex.CallRequest("tasks.task.list", {"select": ["id"]}, api=3),
    "positional": ex.CallRequest("task.item.getdata", [5]),
    "batch": ex.BatchRequest({"a": ["profile", {}], "b": ["app.info", {}]}),
    "batch-v3": ex.BatchRequest([["tasks.task.list", {}]], api=3),
}
FORMATS = [ex.Format.CURL, ex.Format.HTTPX, ex.Format.B24PYSDK, ex.Format.JS]


@pytest.mark.parametrize("include_secret", [False, True])
def test_no_token_or_secret_unless_asked(include_secret: bool) -> None:
    for request in REQUESTS.values():
        for fmt in FORMATS:
            text = ex.export_code(fmt, APP, request, include_secret=include_secret)
            assert "refresh-token-value-2" not in text
            assert "client-secret-value-xyz" not in text
            assert ("access-token-value-1" in text) is include_secret
            assert "portal.example.com" in text
            if fmt in (ex.Format.HTTPX, ex.Format.B24PYSDK):
                ast.parse(text)


def test_the_shapes_follow_the_docs_and_the_sdks() -> None:
    curl = ex.export_code(ex.Format.CURL, APP, REQUESTS["call-v2"])
    assert "https://portal.example.com/rest/crm.deal.list?bx24_request_id=r1" in curl
    body = json.loads(curl.split("--data-raw '", 1)[1].rsplit("'", 1)[0])
    assert body == {"auth": "<ACCESS_TOKEN>", "select": ["ID"], "note": "<ACCESS_TOKEN>"}
    v3 = ex.export_code(ex.Format.CURL, APP, REQUESTS["batch-v3"])
    assert "https://portal.example.com/rest/api/batch" in v3
    assert '"0": {"method": "tasks.task.list"' in v3
    py = ex.export_code(ex.Format.B24PYSDK, APP, REQUESTS["call-v3"])
    assert "BitrixAppLocal(domain='portal.example.com', client_id='local.abc.123'" in py
    assert "prefer_version=3" in py
    js = ex.export_code(ex.Format.JS, APP, REQUESTS["batch"])
    assert "new B24OAuth(" in js
    assert "clientId: \"local.abc.123\"" in js
    assert "$b24.actions.v2.batch.make" in js
    with pytest.raises(ValueError, match="webhook connections only"):
        ex.export_code(ex.Format.PHP, APP, REQUESTS["call-v2"])


def test_b24pysdk_setup_builds_a_real_token_from_the_environment(tmp_path: Path) -> None:
    text = ex.export_code(ex.Format.B24PYSDK, APP, REQUESTS["call-v2"])
    script = tmp_path / "setup.py"
    script.write_text(text.split("params = ")[0] + "print(token.auth_token, token.refresh_token, app.client_secret)\n")
    env = {**os.environ, "B24_ACCESS_TOKEN": "a1", "B24_REFRESH_TOKEN": "r2", "B24_CLIENT_SECRET": "s3"}
    out = subprocess.run([sys.executable, str(script)], env=env, capture_output=True, text=True, check=True,
                         timeout=60)
    assert out.stdout.split() == ["a1", "r2", "s3"]


@pytest.mark.skipif(shutil.which("node") is None, reason="node is not installed")
def test_js_output_passes_node_check(tmp_path: Path) -> None:
    path = tmp_path / "app.mjs"
    path.write_text(ex.export_code(ex.Format.JS, APP, REQUESTS["call-v2"]))
    proc = subprocess.run(["node", "--check", str(path)], capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0, proc.stderr


@pytest.fixture
async def creds(app_portal) -> OAuthCredentials:
    return await authorize(app_portal)


def test_the_httpx_and_curl_snippets_call_the_sandbox_as_the_app(creds: OAuthCredentials, tmp_path: Path) -> None:
    script = tmp_path / "call.py"
    script.write_text(ex.export_code(ex.Format.HTTPX, creds, ex.CallRequest("app.info")))
    env = {**os.environ, "B24_ACCESS_TOKEN": creds.tokens.access_token}
    out = subprocess.run([sys.executable, str(script)], env=env, capture_output=True, text=True, timeout=60,
                         check=True)
    assert json.loads(out.stdout)["result"]["CODE"] == "local.sandbox"
    if shutil.which("curl") is not None:
        curl = ex.export_code(ex.Format.CURL, creds, ex.BatchRequest([["profile", {}], ["crm.deal.get", {"id": 2}]]))
        command = curl.replace("<ACCESS_TOKEN>", creds.tokens.access_token)
        answer = json.loads(subprocess.run(["bash", "-c", command], capture_output=True, text=True, timeout=60,
                                           check=True).stdout)
        assert answer["result"]["result"][1]["ID"] == "2"
