"""Window state survives a restart; nothing the app writes holds the webhook; light/dark palettes."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

from b24explorer.core.state import FileState
from b24explorer.core.webhook import Webhook
from b24explorer.ui.qt import QApplication, QColor, QPalette


def picker_index(ctx, name: str) -> int:
    """The toolbar picker's row of a connection (its items hold connection ids)."""
    return ctx.window.connection_picker.findData(ctx.workspace.connections.require(name).id)


def secret_of(url: str) -> str:
    return url.rstrip("/").rsplit("/", 1)[-1]


def test_geometry_splitters_and_last_request_are_restored(make_window, sb, arun, until, app_home) -> None:
    first = make_window(settings=FileState())
    arun(first.workspace.connections.add("Portal", Webhook.parse(sb.webhook_url)))
    window = first.window
    window.refresh_connections("Portal")
    window.resize(1111, 777)
    window.main_splitter.setSizes([222, 889])
    window.choose_method("crm.deal.get")
    window.api_switch.set_api(3)
    window.params_editor.set_text('{"id": 7}')

    async def send() -> None:
        task = window.send()
        assert task is not None
        await task

    arun(send())
    sizes = window.main_splitter.sizes()
    window.close()
    first.workspace.state.flush()

    second = make_window(settings=FileState())
    again = second.window
    assert again.connection.name == "Portal"
    # The offscreen platform's screen is small, so Qt fits the restored geometry to it (and to the window's
    # minimum width); the height shows the saved geometry was applied instead of the 1400×880 default.
    assert abs(again.size().height() - 777) <= 10
    assert again.size().width() < 1400
    assert again.main_splitter.sizes()[0] == sizes[0] == 222  # the picker's width; the rest follows the window
    assert again.method_field.method() == "crm.deal.get"
    assert json.loads(again.params_editor.text()) == {"id": 7}
    assert again.api_switch.api() == 3
    assert again.method_picker.recent()[0] == "crm.deal.get"


def test_no_file_the_app_wrote_holds_the_webhook_secret(make_window, sb, arun, app_home: Path) -> None:
    secret = secret_of(sb.webhook_url)
    ctx = make_window(settings=FileState())
    window = ctx.window
    arun(ctx.workspace.connections.add("Portal", Webhook.parse(sb.webhook_url)))
    window.refresh_connections("Portal")

    async def session() -> None:
        for method, params, api in [
            ("crm.deal.list", {"select": ["ID"], "note": sb.webhook_url}, 2),  # the URL pasted into params
            ("tasks.task.get", {"taskId": 1}, 2),  # v3 warning
            ("no.such.method", {}, 2),  # an error answer
            ("tasks.task.list", {}, 3),
        ]:
            window.choose_method(method)
            window.api_switch.set_api(api)
            window.params_editor.set_text(json.dumps(params))
            task = window.send()
            assert task is not None
            await task
        await asyncio.sleep(0.3)  # let background writers (settings, history) run

    arun(session())
    window.close()
    arun(ctx.aclose())
    ctx.workspace.state.flush()
    written = [p for p in app_home.rglob("*") if p.is_file()]
    assert written, "the session wrote nothing at all — the scan would prove nothing"
    assert any(p.name == "settings.json" for p in written)
    leaks = [str(p.relative_to(app_home)) for p in written if secret.encode() in p.read_bytes()]
    assert leaks == []


def test_palette_follows_light_and_dark(make_window, qapp) -> None:
    ctx = make_window()
    window = ctx.window
    window.params_editor.set_text('{"key": "value"}')

    def key_colour() -> str:
        block = window.params_editor.editor.document().firstBlock()
        return next(r.format.foreground().color().name() for r in block.layout().formats() if r.start == 1)

    light_key = key_colour()
    light_v3 = window.log_pane.banner.styleSheet()
    original = QApplication.palette()
    dark = QPalette(original)
    dark.setColor(QPalette.ColorRole.Window, QColor("#202124"))
    dark.setColor(QPalette.ColorRole.Base, QColor("#181818"))
    dark.setColor(QPalette.ColorRole.Text, QColor("#e8e8e8"))
    try:
        QApplication.setPalette(dark)
        window.apply_palette()
        dark_key = key_colour()
        assert dark_key != light_key
        assert QColor(dark_key).lightness() > QColor(light_key).lightness()  # readable on a dark base
        assert window.log_pane.banner.styleSheet() != light_v3
    finally:
        QApplication.setPalette(original)
        window.apply_palette()
    assert key_colour() == light_key


def test_a_palette_change_recolours_the_window_by_itself(make_window, qapp, qtbot) -> None:
    """The window watches its palette (from its first paint on) instead of waiting to be told."""
    window = make_window().window
    light_v3 = window.log_pane.banner.styleSheet()
    original = QApplication.palette()
    dark = QPalette(original)
    dark.setColor(QPalette.ColorRole.Window, QColor("#202124"))
    dark.setColor(QPalette.ColorRole.Base, QColor("#181818"))
    try:
        QApplication.setPalette(dark)  # Qt tells the widgets on its next turn
        qtbot.waitUntil(lambda: window.log_pane.banner.styleSheet() != light_v3, timeout=5000)
    finally:
        QApplication.setPalette(original)
    qtbot.waitUntil(lambda: window.log_pane.banner.styleSheet() == light_v3, timeout=5000)


def test_the_unsaved_sandbox_connection_starts_on_the_last_used_method(make_window, sb, arun) -> None:
    first = make_window(sb, settings=FileState())

    async def send() -> None:
        first.window.choose_method("crm.deal.get")
        first.window.params_editor.set_text('{"id": 3}')
        task = first.window.send()
        assert task is not None
        await task

    arun(send())
    first.window.close()
    first.workspace.state.flush()
    second = make_window(sb, settings=FileState())
    assert second.window.method_field.method() == "crm.deal.get"
    assert second.window.method_picker.recent()[0] == "crm.deal.get"


def test_each_connection_keeps_its_own_request(make_window, sb, arun, qtbot) -> None:
    ctx = make_window(sb)
    window = ctx.window
    arun(ctx.workspace.connections.add("Other", Webhook.parse(sb.add_webhook(user_id=1, scopes=["crm"]))))
    window.refresh_connections("Sandbox")
    window.choose_method("crm.deal.get")
    window.params_editor.set_text('{"id": 1}')
    index = picker_index(ctx, "Other")
    window.connection_picker.setCurrentIndex(index)
    window.connection_picker.activated.emit(index)  # as a user picking it in the combo
    assert window.connection.name == "Other"
    window.choose_method("crm.contact.list")
    window.params_editor.set_text('{"select": ["ID"]}')
    window.connection_picker.activated.emit(picker_index(ctx, "Sandbox"))
    assert window.connection.name == "Sandbox"
    assert window.method_field.method() == "crm.deal.get"
    assert json.loads(window.params_editor.text()) == {"id": 1}
    window.connection_picker.activated.emit(picker_index(ctx, "Other"))
    assert window.method_field.method() == "crm.contact.list"
    assert json.loads(window.params_editor.text()) == {"select": ["ID"]}
    assert "Other" in window.windowTitle()


def test_the_status_bar_says_whether_webhooks_can_be_saved(make_window, arun) -> None:
    import keyring
    from keyring.backends import fail

    from b24explorer.app import show_keyring_state

    ctx = make_window()
    arun(show_keyring_state(ctx))  # the in-memory test keyring is usable
    assert ctx.window.keyring_label.text() == "keyring ✓"
    keyring.set_keyring(fail.Keyring())
    arun(show_keyring_state(ctx))
    assert "this run only" in ctx.window.keyring_label.text()
    assert "never written to disk" in ctx.window.keyring_label.toolTip()
