"""`b24x call` against the sandbox: envelope on stdout, masked log on stderr, exit codes 0/1/2."""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from b24explorer.cli import main
from b24explorer.cli.parsing import WEBHOOK_ENV

ROOT = Path(__file__).resolve().parents[1]


def run(argv, monkeypatch, capsys, env_hook=None):
    if env_hook is None:
        monkeypatch.delenv(WEBHOOK_ENV, raising=False)
    else:
        monkeypatch.setenv(WEBHOOK_ENV, env_hook)
    code = main(argv)
    out, err = capsys.readouterr()
    return code, out, err


def test_call_prints_the_envelope_and_exits_0(sb, monkeypatch, capsys) -> None:
    code, out, err = run(
        [
            "call",
            "crm.deal.get",
            "--params",
            '{"id": 3}',
            "--webhook",
            sb.webhook_url,
            "--request-id",
            "cli-1",
        ],
        monkeypatch,
        capsys,
    )
    assert code == 0
    body = json.loads(out)
    assert body["result"]["ID"] == "3"
    assert "time" in body
    assert "HTTP 200" in err
    assert "cli-1" in err
    assert sb.secret not in out + err


def test_webhook_from_the_environment_and_api_3(sb, monkeypatch, capsys) -> None:
    code, out, err = run(
        ["call", "tasks.task.get", "--api", "3", "--params", '{"id": 1}'],
        monkeypatch,
        capsys,
        env_hook=sb.webhook_url,
    )
    assert code == 0
    assert json.loads(out)["result"]["item"]["id"] == 1
    assert sb.secret not in out + err


def test_v3_warning_on_stderr(sb, monkeypatch, capsys) -> None:
    code, _, err = run(
        ["call", "tasks.task.get", "--params", '{"taskId": 1}', "--webhook", sb.webhook_url],
        monkeypatch,
        capsys,
    )
    assert code == 0
    assert "METHOD_AVAILABLE_IN_API_V3" in err
    assert "The method tasks.task.get is available in restApi:v3. It's worth migrating to the new API." in err


def test_params_from_a_file(sb, monkeypatch, capsys, tmp_path) -> None:
    path = tmp_path / "p.json"
    path.write_text('{"id": 4}')
    code, out, _ = run(
        ["call", "crm.deal.get", "--params", f"@{path}", "--webhook", sb.webhook_url], monkeypatch, capsys
    )
    assert code == 0
    assert json.loads(out)["result"]["ID"] == "4"


def test_api_error_exits_1_with_the_error_as_json(sb, monkeypatch, capsys) -> None:
    code, out, err = run(
        ["call", "crm.deal.get", "--params", '{"id": 999999}', "--webhook", sb.webhook_url],
        monkeypatch,
        capsys,
    )
    assert code == 1
    body = json.loads(out)
    assert body["status"] == 400
    assert body["error_description"] == "Not found"
    assert body["request_id"]
    assert sb.secret not in out + err


def test_soft_error_result_exits_1(sb, monkeypatch, capsys) -> None:
    code, out, _ = run(
        ["call", "tasks.task.get", "--api", "3", "--webhook", sb.webhook_url], monkeypatch, capsys
    )
    assert code == 1
    assert json.loads(out)["error"]["code"].startswith("BITRIX_REST_V3_EXCEPTION_VALIDATION")


@pytest.mark.parametrize(
    ("argv_tail", "fragment"),
    [
        (["--params", '{"id":\n  1,}'], "invalid JSON at line 2 column"),
        (["--params", "[1, 2"], "invalid JSON at line 1 column"),
        (["--params", '"text"'], "must be a JSON object"),
        (["--params", "@/nonexistent/params.json"], "no such file"),
    ],
)
def test_bad_params_exit_2_and_send_nothing(sb, monkeypatch, capsys, argv_tail, fragment) -> None:
    code, out, err = run(
        ["call", "crm.deal.add", "--webhook", sb.webhook_url, *argv_tail], monkeypatch, capsys
    )
    assert code == 2
    assert out == ""
    assert fragment in err
    assert sb.counters.requests() == 0


@pytest.mark.parametrize(
    ("hook", "fragment"),
    [
        ("http://portal.example.com/rest/1/cliSecret12345/", "requires HTTPS"),
        ("https://portal.example.com/rest/1/", "no secret"),
        ("https://portal.example.com/rest/one/cliSecret12345/", "numeric"),
        ("https://portal.example.com/rest/1/cliSecret12345/profile.json", "extra path segments"),
        (None, "no webhook"),
    ],
)
def test_bad_webhooks_exit_2_without_echoing_the_secret(monkeypatch, capsys, hook, fragment) -> None:
    argv = ["call", "profile"] + (["--webhook", hook] if hook else [])
    code, out, err = run(argv, monkeypatch, capsys)
    assert code == 2
    assert out == ""
    assert fragment in err
    assert "cliSecret12345" not in err


def test_console_entry_point_runs_as_a_process(sb) -> None:
    env = {**os.environ, WEBHOOK_ENV: sb.webhook_url, "PYTHONPATH": str(ROOT)}
    proc = subprocess.run(
        [sys.executable, "-m", "b24explorer.cli", "call", "server.time"],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        cwd=ROOT,
    )
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout)["result"]
    assert sb.secret not in proc.stdout + proc.stderr


def test_run_writes_to_given_streams(sb) -> None:
    from b24explorer.cli import Environment

    out, err = io.StringIO(), io.StringIO()
    env = Environment(stdout=out, stderr=err, environ={})
    argv = ["call", "server.time", "--webhook", sb.webhook_url, "--timeout", "5", "--plan", "standard", "--verbose"]
    assert main(argv, env) == 0
    assert json.loads(out.getvalue())["result"]
    assert "HTTP_REQUEST_STARTING" in err.getvalue()  # --verbose shows DEBUG records


@pytest.mark.parametrize("argv_tail", [["crm deal.list"], ["server.time", "--timeout", "0"]])
def test_bad_method_or_timeout_exit_2(sb, monkeypatch, capsys, argv_tail) -> None:
    code, out, err = run(["call", *argv_tail, "--webhook", sb.webhook_url], monkeypatch, capsys)
    assert code == 2
    assert out == ""
    assert err.startswith("b24x call: ")
    assert sb.counters.requests() == 0


def test_call_is_recorded_in_history_and_profile_reads_the_keyring(sb, monkeypatch, capsys) -> None:
    import keyring
    from keyring_backends import MemoryKeyring

    from b24explorer.cli import main
    from b24explorer.core import vault
    from b24explorer.core.history import HistoryStore
    from b24explorer.core.settings import ConnectionProfile, SettingsStore
    from b24explorer.core.webhook import Webhook

    previous = keyring.get_keyring()
    keyring.set_keyring(MemoryKeyring())
    ref = vault.new_reference()
    vault.save_webhook(ref, sb.webhook_url)
    store = SettingsStore()
    settings = store.load()
    settings.add_connection(ConnectionProfile.from_webhook("Demo", Webhook.parse(sb.webhook_url), ref))
    store.save(settings)
    monkeypatch.delenv("B24X_WEBHOOK", raising=False)

    assert main(["call", "crm.deal.get", "--profile", "Demo", "--params", '{"id": 2}']) == 0
    assert '"ID": "2"' in capsys.readouterr().out
    assert main(["call", "no.such.method", "--profile", "Demo", "--no-history"]) == 1
    assert main(["call", "server.time", "--profile", "Nobody"]) == 2
    entries = HistoryStore().search("")
    assert [(e.connection_name, e.method, e.status) for e in entries] == [("Demo", "crm.deal.get", 200)]
    assert entries[0].connection == ref  # the connection's id
    body = HistoryStore().get(entries[0].id).response
    assert json.loads(body)["result"]["ID"] == "2"
    assert sb.secret.encode() not in body
    keyring.set_keyring(previous)


def test_a_v3_write_answered_after_the_timeout_is_re_sent_with_its_key(sb, monkeypatch, capsys) -> None:
    sb.faults.add("delay", method="tasks.task.add", count=1, seconds=1.5)
    params = json.dumps({"fields": {"title": "Once", "creatorId": 1, "responsibleId": 1}})
    code, out, err = run(
        ["call", "tasks.task.add", "--api", "3", "--timeout", "0.5", "--params", params, "--no-history"],
        monkeypatch,
        capsys,
        env_hook=sb.webhook_url,
    )
    assert code == 0
    assert json.loads(out)["result"]["item"]["title"] == "Once"
    assert "replayed (Idempotency-Key" in err
    assert sb.counters.requests("tasks.task.add") == 2
    assert sb.counters.writes("tasks.task.add") == 1


def test_no_v3_advice_on_a_portal_without_rest_v3(make_sandbox, monkeypatch, capsys) -> None:
    plain = make_sandbox(deals=3, rest_v3=False)
    argv = ["call", "tasks.task.get", "--params", '{"taskId": 1}', "--webhook", plain.webhook_url, "--no-history"]
    code, out, err = run(argv, monkeypatch, capsys)
    assert code == 0
    assert json.loads(out)["result"]["task"]
    assert "METHOD_AVAILABLE_IN_API_V3" not in err
    assert "restApi:v3" not in err
    code, _, err = run(argv, monkeypatch, capsys)
    assert code == 0
    assert "restApi:v3" not in err
    # the portal's answer ("no REST v3") is cached: the second call costs one request, not two
    assert plain.counters.requests("rest.documentation.openapi") == 1
    assert plain.counters.requests("tasks.task.get") == 2
