"""Copy as code: every format parsed or executed against the sandbox, the secret only where the user asked.

The Python exports (httpx, b24pysdk) run as they are written, in a subprocess, against the sandbox and must
return what the explorer got. b24pysdk hard-codes https, so only here its base URL is patched to the sandbox's
http address. curl runs with the placeholder replaced in memory. The JavaScript and PHP exports run against
minimal stand-ins of b24jssdk / b24phpsdk's public surface (the real packages are not installed here) after a
syntax check by node / php.
"""

from __future__ import annotations

import ast
import json
import os
import shlex
import shutil
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from b24explorer.core import B24Client, Webhook
from b24explorer.core import export as code_export
from b24explorer.sandbox import Sandbox
from b24explorer.ui.export_dialog import ExportDialog, render, write_response
from b24explorer.ui.qt import QGuiApplication

CALL = code_export.CallRequest("crm.deal.get", {"id": 3}, api=2)
BATCH = code_export.BatchRequest(
    {
        "deal": ["crm.deal.get", {"id": 3}],
        "peers": ["crm.deal.list", {"filter": {"COMPANY_ID": "$result[deal][COMPANY_ID]"}, "select": ["ID"]}],
    },
    halt=True,
)

B24PYSDK_RUNNER = """\
import importlib, runpy, sys
caller = importlib.import_module("b24pysdk.api.callers.call_method")
caller._MethodCaller._base_url = property(lambda self: sys.argv[1] + "/rest")  # the sandbox speaks http
runpy.run_path(sys.argv[2], run_name="__main__")
"""

# The part of b24jssdk's public surface the export uses (actions.v2.call.make / batch.make, AjaxResult-like).
JSSDK_STANDIN = """\
class Result {
  constructor(body, data) { this.body = body; this.data = data }
  get isSuccess() { return !this.body.error }
  getErrorMessages() { return this.body.error ? [this.body.error_description || String(this.body.error)] : [] }
  getData() { return this.data }
}
async function post(url, body) {
  const res = await fetch(url, { method: 'POST', headers: { 'Content-Type': 'application/json' },
                                 body: JSON.stringify(body) })
  return res.json()
}
export class B24Hook {
  static fromWebhookUrl(url) {
    const base = url.replace(/\\/$/, '')
    return { actions: { v2: {
      call: { make: async ({ method, params }) => {
        const body = await post(`${base}/${method}`, params || {})
        return new Result(body, { result: body.result, time: body.time })
      } },
      batch: { make: async ({ calls, options }) => {
        const cmd = {}
        for (const [label, [method, params]] of Object.entries(calls)) {
          cmd[label] = method + '?' + new URLSearchParams(flatten(params)).toString()
        }
        const body = await post(`${base}/batch`, { halt: options.isHaltOnError ? 1 : 0, cmd })
        return new Result(body, body.result.result)
      } },
    } } }
  }
}
function flatten(value, prefix = '', out = {}) {
  for (const [k, v] of Object.entries(value)) {
    const key = prefix ? `${prefix}[${k}]` : k
    if (v !== null && typeof v === 'object') flatten(v, key, out); else out[key] = v
  }
  return out
}
"""

# The part of b24phpsdk's public surface the export uses.
PHPSDK_STANDIN = """\
<?php
namespace Bitrix24\\SDK\\Services {
  final class Core {
    public function __construct(private string $hook) {}
    public function call(string $method, array $params, $version = null): object {
      $ctx = stream_context_create(['http' => ['method' => 'POST', 'header' => "Content-Type: application/json\\r\\n",
                                               'content' => json_encode($params), 'ignore_errors' => true]]);
      $body = json_decode(file_get_contents(rtrim($this->hook, '/') . '/' . $method, false, $ctx), true);
      return new class($body) {
        public function __construct(private array $body) {}
        public function getResponseData(): object {
          return new class($this->body) {
            public function __construct(private array $body) {}
            public function getResult(): mixed { return $this->body['result']; }
          };
        }
      };
    }
  }
  final class ServiceBuilderFactory {
    public static function createServiceBuilderFromWebhook(string $hook): object {
      return new class($hook) { public Core $core; public function __construct(string $h) { $this->core = new Core($h); } };
    }
  }
}
"""



@pytest.fixture
def hook(sb: Sandbox) -> Webhook:
    return Webhook.parse(sb.webhook_url)


@pytest.fixture
def explorer(client: B24Client, arun: Callable[..., Any]) -> dict[str, Any]:
    """What the explorer itself gets for the exported requests."""
    single = arun(client.call(CALL.method, CALL.params))
    batch = arun(client.batch(BATCH.commands, halt=True))
    assert single.is_success
    assert batch.is_success
    return {"call": single.result, "batch": batch.data}


def run(args: list[str], *, env: dict[str, str] | None = None, cwd: Path | None = None) -> str:
    done = subprocess.run(args, capture_output=True, text=True, timeout=60, env=env, cwd=cwd, check=False)
    assert done.returncode == 0, done.stderr
    return done.stdout


def env_with(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k != "B24_WEBHOOK"}
    env.update(extra)
    return env


def dialog_code(qtbot: Any, request: Any, webhook: Webhook, fmt: str) -> ExportDialog:
    dialog = ExportDialog(request, webhook, fmt=fmt)
    qtbot.addWidget(dialog)
    return dialog


# --- the dialog -------------------------------------------------------------------------------------------------



def started(window: Any) -> bool:
    """The window's start-up work (the method list load) is over, however it ended."""
    task = getattr(window, "_methods_task", None)
    return task is None or task.done()

def test_dialog_masks_the_secret_unless_ticked(qtbot: Any, hook: Webhook, tmp_path: Path) -> None:
    dialog = dialog_code(qtbot, CALL, hook, "curl")
    assert dialog.format() == "curl"
    for fmt in code_export.FORMAT_LABELS:
        dialog.set_format(str(fmt))
        text = dialog.code_view.toPlainText()
        assert hook.secret not in text
        assert code_export.PLACEHOLDER in text or code_export.ENV_VAR in text
        dialog.save_code(tmp_path / f"masked{code_export.FORMAT_SUFFIX[fmt]}")
    assert dialog.warning.isHidden()

    dialog.copy()
    assert hook.secret not in QGuiApplication.clipboard().text()
    assert "crm.deal.get" in QGuiApplication.clipboard().text()

    dialog.secret_box.setChecked(True)
    assert hook.secret in dialog.code_view.toPlainText()
    assert not dialog.warning.isHidden()
    dialog.secret_box.setChecked(False)
    assert hook.secret not in dialog.code_view.toPlainText()

    for path in tmp_path.iterdir():
        assert hook.secret not in path.read_text(), path.name


def test_without_a_readable_webhook_the_secret_cannot_be_included(qtbot: Any) -> None:
    dialog = ExportDialog(CALL, None, fmt="python")
    qtbot.addWidget(dialog)
    assert not dialog.secret_box.isEnabled()
    assert "your-portal.bitrix24.com" in dialog.code_view.toPlainText()


def test_saved_response_is_the_body_with_secrets_masked(tmp_path: Path, hook: Webhook) -> None:
    raw = json.dumps({"result": {"note": f"sent from {hook.url}", "ID": "1"}}).encode()
    path = write_response(tmp_path / "answer", raw, secrets=[hook.secret])
    assert path.suffix == ".json"
    data = path.read_bytes()
    assert hook.secret.encode() not in data
    assert json.loads(data)["result"]["ID"] == "1"


# --- each format, parsed or executed ----------------------------------------------------------------------------


@pytest.mark.parametrize("request_name", ["call", "batch"])
def test_python_httpx_export_returns_what_the_explorer_got(qtbot: Any, sb: Sandbox, hook: Webhook,
                                                           explorer: dict[str, Any], tmp_path: Path,
                                                           request_name: str) -> None:
    request = CALL if request_name == "call" else BATCH
    path = dialog_code(qtbot, request, hook, "python").save_code(tmp_path / "export.py")
    source = path.read_text()
    ast.parse(source)
    assert hook.secret not in source
    out = json.loads(run([sys.executable, str(path)], env=env_with(B24_WEBHOOK=sb.webhook_url)))
    got = out["result"] if request_name == "call" else out["result"]["result"]
    assert got == explorer[request_name]


@pytest.mark.parametrize("request_name", ["call", "batch"])
def test_python_b24pysdk_export_returns_what_the_explorer_got(qtbot: Any, sb: Sandbox, hook: Webhook,
                                                              explorer: dict[str, Any], tmp_path: Path,
                                                              request_name: str) -> None:
    request = CALL if request_name == "call" else BATCH
    path = dialog_code(qtbot, request, hook, "b24pysdk").save_code(tmp_path / "export_sdk.py")
    source = path.read_text()
    ast.parse(source)
    assert hook.secret not in source
    runner = tmp_path / "runner.py"
    runner.write_text(B24PYSDK_RUNNER)
    out = json.loads(run([sys.executable, str(runner), sb.base_url, str(path)],
                         env=env_with(B24_WEBHOOK=sb.webhook_url)))
    got = out["result"] if request_name == "call" else out["result"]["result"]
    assert got == explorer[request_name]


def test_curl_export_parses_and_runs(qtbot: Any, sb: Sandbox, hook: Webhook, explorer: dict[str, Any],
                                     tmp_path: Path) -> None:
    path = dialog_code(qtbot, CALL, hook, "curl").save_code(tmp_path / "export.sh")
    script = path.read_text()
    assert hook.secret not in script
    words = shlex.split(script.split("\n", 1)[1].replace("\\\n", " "))
    assert words[:4] == ["curl", "-sS", "-X", "POST"]
    assert words[4].endswith(f"/rest/1/{code_export.PLACEHOLDER}/crm.deal.get")
    assert json.loads(words[words.index("--data-raw") + 1]) == CALL.params
    if shutil.which("curl") is None:
        pytest.skip("curl is not installed")
    runnable = script.replace(code_export.PLACEHOLDER, hook.secret)  # what the user does, kept in memory only
    out = json.loads(run(["bash", "-c", runnable]))
    assert out["result"] == explorer["call"]


@pytest.mark.parametrize("request_name", ["call", "batch"])
def test_js_export_is_valid_and_runs_on_the_sdk_surface(qtbot: Any, sb: Sandbox, hook: Webhook,
                                                        explorer: dict[str, Any], tmp_path: Path,
                                                        request_name: str) -> None:
    if shutil.which("node") is None:
        pytest.skip("node is not installed")
    request = CALL if request_name == "call" else BATCH
    path = dialog_code(qtbot, request, hook, "js").save_code(tmp_path / "export.mjs")
    source = path.read_text()
    assert hook.secret not in source
    assert f"$b24.actions.v2.{'call' if request_name == 'call' else 'batch'}.make(" in source
    run(["node", "--check", str(path)])
    package = tmp_path / "node_modules" / "@bitrix24" / "b24jssdk"
    package.mkdir(parents=True)
    (package / "package.json").write_text(json.dumps({"name": "@bitrix24/b24jssdk", "type": "module",
                                                      "exports": "./index.mjs"}))
    (package / "index.mjs").write_text(JSSDK_STANDIN)
    out = json.loads(run(["node", str(path)], env=env_with(B24_WEBHOOK=sb.webhook_url), cwd=tmp_path))
    got = out["result"] if request_name == "call" else out
    assert got == explorer[request_name]


def test_php_export_is_valid_and_runs_on_the_sdk_surface(qtbot: Any, sb: Sandbox, hook: Webhook,
                                                         tmp_path: Path) -> None:
    path = dialog_code(qtbot, CALL, hook, "php").save_code(tmp_path / "export.php")
    source = path.read_text()
    assert hook.secret not in source
    assert source.startswith("<?php")
    assert "$b24->core->call('crm.deal.get', $params)" in source
    assert source.count("[") == source.count("]")
    assert source.count("(") == source.count(")")
    if shutil.which("php") is None:
        pytest.skip("php is not installed")
    run(["php", "-l", str(path)])
    (tmp_path / "vendor").mkdir()
    (tmp_path / "vendor" / "autoload.php").write_text(PHPSDK_STANDIN)
    out = run(["php", str(path)], env=env_with(B24_WEBHOOK=sb.webhook_url))
    deal = next(d for d in sb.store.deals if str(d["ID"]) == "3")
    assert "[ID] => 3" in out
    assert f"[TITLE] => {deal['TITLE']}" in out


def test_include_secret_export_runs_without_the_environment(qtbot: Any, sb: Sandbox, hook: Webhook,
                                                            explorer: dict[str, Any]) -> None:
    dialog = dialog_code(qtbot, CALL, hook, "python")
    dialog.secret_box.setChecked(True)
    code = dialog.code_view.toPlainText()
    assert hook.secret in code
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60,
                          env=env_with(), check=False)
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["result"] == explorer["call"]


def test_render_without_dialog_masks_by_default(hook: Webhook) -> None:
    for fmt in code_export.FORMAT_LABELS:
        assert hook.secret not in render(fmt, BATCH, hook)


def test_copy_as_menu_and_export_dialog_in_the_window(make_window: Any, sb: Sandbox, arun: Callable[..., Any],
                                                      until: Any, tmp_path: Path) -> None:
    ctx = make_window(sb)
    window, power = ctx.window, ctx.power
    arun(until(lambda: started(window), what="the window's start-up work"))
    labels = [a.text() for a in window.copy_as_menu.actions() if a.text()]
    assert labels == [*code_export.FORMAT_LABELS.values(), "Export code…"]
    assert window.copy_as_menu.menuAction().isVisible()

    window.choose_method("crm.deal.get")
    window.params_editor.set_text('{"id": 3}')
    code = arun(power.copy_as("python"))
    assert code == QGuiApplication.clipboard().text()
    assert sb.secret not in code
    assert "crm.deal.get" in code
    ast.parse(code)

    window.set_mode("batch")
    power.batch.set_text('{"a": ["crm.deal.get", {"id": 1}]}')
    curl = arun(power.copy_as("curl"))
    assert "/batch" in curl
    assert sb.secret not in curl
    dialog = arun(power.open_export_dialog("js"))
    assert dialog.isVisible()
    assert "$b24.actions.v2.batch.make(" in dialog.code_view.toPlainText()
    dialog.close()

    window.set_mode("single")
    arun(window.send())
    raw = power.response_bytes()
    assert raw is not None
    saved = write_response(tmp_path / "deal.json", raw, power._secrets())
    assert json.loads(saved.read_bytes())["result"]["ID"] == "3"
