"""The webhook secret, end to end: it lives in the keyring and nowhere else.

A known secret (a sandbox webhook) goes through the window and the CLI — calls, errors, batch, list-all,
history (and a re-send from it), code exports, saved responses, the crash-report path — and even into the params
and the portal's data (a user pasting the webhook by mistake). Then every file under the app's config, data,
cache and log directories (`B24X_HOME`) and every exported file is scanned: zero occurrences. What the user
sees or copies (window title, log pane, error banner, status bar, clipboard) masks it too.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from rel_stats import count
from rel_window import close_loop, make_loop, open_window, runner

from b24explorer import cli
from b24explorer.cli.export import FORMATS as CLI_FORMATS
from b24explorer.core.clock import FakeClock, SystemClock
from b24explorer.core.export import Format
from b24explorer.core.webhook import Webhook
from b24explorer.ui.qt import QApplication, QModelIndex


def occurrences(root: Path, secret: str) -> dict[str, int]:
    """{file: count} of the secret in every file under `root` (plain bytes, and as written by a JSON encoder)."""
    needles = {secret.encode(), json.dumps(secret).strip('"').encode()}
    found: dict[str, int] = {}
    for path in sorted(root.rglob("*")):
        if not path.is_file():
            continue
        data = path.read_bytes()
        n = sum(data.count(needle) for needle in needles)
        count("secrets.files_scanned")
        count("secrets.occurrences", n)
        if n:
            found[str(path.relative_to(root))] = n
    return found



@pytest.fixture
def secret_portal(make_sandbox: Any) -> Any:
    """A private portal, so this test's writes (a deal titled with the webhook) touch no other test."""
    return make_sandbox(deals=120, plan="unlimited")


@pytest.fixture
def wloop(qapp: Any) -> Iterator[asyncio.AbstractEventLoop]:
    loop = make_loop(qapp)
    yield loop
    close_loop(loop)


def visible(ctx: Any) -> list[str]:
    window = ctx.window
    texts = [window.windowTitle(), window.error_banner.text(), window.statusBar().currentMessage(),
             QApplication.clipboard().text()]
    texts += [row.as_text() for row in window.log_pane.model.rows]
    power = ctx.power
    if power is not None:
        texts += [power.batch.status_label.text(), power.list_all.progress_label.text()]
    return texts


def test_secret_never_leaves_the_keyring_window(secret_portal: Any, qtbot: Any, wloop: Any, rel_home: Path,
                                                tmp_path: Path, working_keyring: Any,
                                                monkeypatch: pytest.MonkeyPatch) -> None:
    from b24explorer.ui.connections import ConnectionDialog
    from b24explorer.ui.modes import MODE_BATCH, MODE_LIST

    sb = secret_portal
    url, secret = sb.webhook_url, sb.secret
    exports = tmp_path / "exports"
    exports.mkdir()
    run = runner(wloop)
    ctx = open_window(qtbot, None, clock=FakeClock())
    window, power = ctx.window, ctx.power
    seen: list[str] = []
    records: list[Any] = []
    ctx.workspace.log_bus.subscribe(records.append)  # the structured stream behind the log pane, context included

    async def dialog_of(kind: type) -> Any:
        for _ in range(500):
            if isinstance(ctx.flow.dialog, kind):
                return ctx.flow.dialog
            await asyncio.sleep(0.02)
        raise AssertionError(f"no {kind.__name__}")

    async def add_connection() -> Any:  # pasted into the connection dialog, as a user does
        task = asyncio.ensure_future(ctx.flow.add())
        dialog = await dialog_of(ConnectionDialog)
        dialog.name_edit.setText("Portal")
        dialog.url_edit.setText(url)
        seen.extend([dialog.windowTitle()])
        dialog.accept()
        return await task

    assert run(add_connection()).name == "Portal"
    window.select_connection("Portal")

    def single(method: str, params: Any) -> Any:
        window.set_mode("single")
        window.choose_method(method)
        window.params_editor.set_text(json.dumps(params))
        task = window.send()
        assert task is not None
        run(task)
        seen.extend(visible(ctx))
        return window._last_outcome

    # calls, including the webhook pasted into params and stored in the portal's data
    assert single("crm.deal.list", {"select": ["ID", "TITLE"], "filter": {"<=ID": 3}}).error_code == ""
    added = single("crm.deal.add", {"fields": {"TITLE": f"see {url}", "COMMENTS": url}})
    assert added.error_code == ""
    new_id = int(added.result.result)
    assert single("crm.deal.get", {"id": new_id}).error_code == ""
    # errors: unknown method, an HTML 502, a redirect that names the webhook path, an error inside a 200
    assert single("no.such.method", {"note": url}).error_code == "ERROR_METHOD_NOT_FOUND"
    sb.faults.add(kind="html", method="crm.deal.get", count=5, status=502)
    assert single("crm.deal.get", {"id": 1}).error_code == "ERR_BAD_RESPONSE"
    sb.faults.add(kind="redirect", method="crm.deal.get", count=1)
    assert single("crm.deal.get", {"id": 1}).error_code == "PORTAL_REDIRECT"
    sb.faults.add(kind="error_in_200", method="crm.deal.get", count=1, code="ERROR_CORE",
                  description=f"failed for {url}")
    assert single("crm.deal.get", {"id": 1}).error_code == "ERROR_CORE"
    assert window.error_banner.isVisible()

    # batch mode with a reference and the webhook in a command's params; list-all mode
    window.set_mode(MODE_BATCH)
    power.batch.set_commands({"a": ["crm.deal.get", {"id": new_id}],
                              "b": ["crm.deal.list", {"filter": {"TITLE": f"see {url}"}, "select": ["ID"]}],
                              "c": ["crm.deal.get", {"id": "$result[a][ID]"}]}, halt=True)
    task = power.send_current()
    assert task is not None
    run(task)
    assert power.batch.last_result.is_success
    seen.extend(visible(ctx))
    window.set_mode(MODE_LIST)
    power.list_all.set_request("crm.deal.list", {"select": ["ID", "TITLE", "COMMENTS"]})
    task = power.send_current()
    assert task is not None
    run(task)
    assert power.list_all.items_received == len(sb.store.deals)
    seen.extend(visible(ctx))

    # history: every request recorded; one re-sent from the panel
    async def history_settled() -> None:
        for _ in range(500):
            if power.history.count() >= 9:
                return
            await asyncio.sleep(0.02)
        raise AssertionError(f"history has {power.history.count()} entries")

    run(history_settled())
    panel = power.history_panel
    run(panel.refresh())
    assert panel.select_id(panel.row_ids()[-1])
    before = sb.counters.requests()
    resent = panel.send_selected()
    run(resent)
    run(asyncio.sleep(0.2))
    assert sb.counters.requests() > before
    seen.extend(visible(ctx))

    # exports: copy as each format, the export dialog saved to files, the response saved as JSON
    window.set_mode("single")
    window.choose_method("crm.deal.get")
    window.params_editor.set_text(json.dumps({"id": new_id}))
    single("crm.deal.get", {"id": new_id})
    for fmt in [f.value for f in Format]:
        code = run(power.copy_as(fmt))
        assert code, fmt
        assert secret not in code, f"copy as {fmt} holds the secret"
        assert QApplication.clipboard().text() == code
        dialog = run(power.open_export_dialog(fmt))
        assert dialog is not None
        dialog.save_code(exports / f"request.{fmt}.txt")
        dialog.close()
    target = exports / "response.json"
    monkeypatch.setattr("b24explorer.ui.export_dialog.QFileDialog.getSaveFileName",
                        lambda *a, **k: (str(target), ""))
    power.save_response()
    assert target.exists()

    # copied from the tree: the error of a failed call, its path and subtree
    single("no.such.method", {"note": url})
    view = window.response_view
    root = QModelIndex()
    if hasattr(view, "copy_subtree") and view.model.rowCount(root):
        view.copy_subtree(view.model.index(0, 0, root))
        seen.append(QApplication.clipboard().text())

    assert records
    seen.extend(f"{r.format_line()} {r.context!r}" for r in records)
    window.log_pane.copy_selection()  # the log pane's Copy (every visible record)
    seen.append(QApplication.clipboard().text())
    seen.extend(visible(ctx))
    assert window.log_pane.model.rows
    for text in seen:
        assert secret not in text, f"the secret is visible: {text[:300]!r}"

    window.close()
    run(ctx.aclose())
    ctx.workspace.state.flush()
    assert (rel_home / "data").exists(), "the history database was written"
    assert occurrences(rel_home, secret) == {}
    assert occurrences(exports, secret) == {}
    count("secrets.e2e_runs")


@pytest.fixture
def quick_waits(monkeypatch: pytest.MonkeyPatch) -> None:
    async def sleep(self: Any, seconds: float) -> None:
        await asyncio.sleep(0)

    monkeypatch.setattr(SystemClock, "sleep", sleep)


def test_secret_never_leaves_the_keyring_cli(secret_portal: Any, rel_home: Path, tmp_path: Path,
                                             working_keyring: Any, quick_waits: None,
                                             capsys: pytest.CaptureFixture[str],
                                             monkeypatch: pytest.MonkeyPatch) -> None:
    from b24explorer.core.settings import ConnectionProfile, SettingsStore
    from b24explorer.core.vault import new_reference, save_webhook

    sb = secret_portal
    url, secret = sb.webhook_url, sb.secret
    exports = tmp_path / "exports"
    exports.mkdir()
    output: list[str] = []
    last: dict[str, str] = {}

    def b24x(*argv: str, data: bool = False) -> int:
        """`data`: stdout carries the portal's own records (one holds the webhook as text), shown verbatim."""
        code = cli.main(list(argv))
        out, err = capsys.readouterr()
        output.extend([err] if data else [out, err])
        last.update(out=out)
        assert "Traceback" not in err
        return code

    # a saved profile (keyring + settings), then runs with --profile and with B24X_WEBHOOK
    ref = new_reference()
    save_webhook(ref, url)
    store = SettingsStore()
    settings = store.load()
    hook = Webhook.parse(url)
    settings.connections.append(ConnectionProfile(name="portal", portal=hook.portal, user_id=hook.user_id,
                                                  keyring_ref=ref))
    store.save(settings)

    assert b24x("batch", "--profile", "portal", "--cmd", '{"t": ["server.time", {}]}') == 0
    monkeypatch.setenv("B24X_WEBHOOK", url)
    assert b24x("call", "crm.deal.add", "--params", json.dumps({"fields": {"TITLE": url}})) == 0
    assert b24x("call", "crm.deal.list", "--params", json.dumps({"filter": {"TITLE": url}}), data=True) == 0
    assert b24x("call", "no.such.method", "--params", json.dumps({"note": url})) == 1
    sb.faults.add(kind="html", method="crm.deal.get", count=5, status=502)
    assert b24x("call", "crm.deal.get", "--params", '{"id": 1}') == 1
    sb.faults.add(kind="redirect", method="crm.deal.get", count=1)
    assert b24x("call", "crm.deal.get", "--params", '{"id": 1}') == 1
    assert b24x("call", "crm.deal.get", "--webhook", url.replace(secret, secret[::-1])) == 1  # 401
    assert b24x("batch", "--cmd", json.dumps({"a": ["crm.deal.get", {"id": 1}],
                                              "b": ["crm.deal.list", {"filter": {"TITLE": url}}],
                                              "c": ["crm.deal.get", {"id": "$result[a][ID]"}]}),
                data=True) == 0
    assert b24x("list", "crm.deal.list", "--params", '{"select": ["ID", "TITLE"]}', data=True) == 0
    assert b24x("history", "--json", "--limit", "50") == 0
    entries = [json.loads(line) for line in last["out"].splitlines() if line.strip()]
    assert {e["kind"] for e in entries} >= {"batch", "list"}  # `b24x call` does not record history (yet)
    assert b24x("history", "--show", str(entries[0]["id"])) == 0
    assert b24x("history", "--resend", str(entries[-1]["id"]), data=True) in (0, 1)
    for fmt in CLI_FORMATS:
        assert b24x("export", "--as", fmt, "crm.deal.list", "--params", json.dumps({"note": url})) == 0
        assert b24x("export", "--as", fmt, "--from-history", str(entries[0]["id"]),
                    "-o", str(exports / f"history.{fmt}.txt")) == 0

    for text in output:
        assert secret not in text, f"the secret reached the terminal: {text[:300]!r}"
    assert occurrences(rel_home, secret) == {}
    assert occurrences(exports, secret) == {}
    count("secrets.e2e_runs")
