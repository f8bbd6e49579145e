"""Screenshots of the Diff, Table and Limits docks for the README, taken from the real window on the sandbox.

Usage: QT_QPA_PLATFORM=offscreen python scripts/shoot_answer_tools.py [OUTPUT_DIR]   (default: docs/)
Writes diff.png, table.png and limits.png.
"""

from __future__ import annotations

import asyncio
import os
import sys
import tempfile
from pathlib import Path


async def shoot(ctx: object, out: Path) -> None:
    from b24explorer.app import start_sandbox
    from b24explorer.ui.qt import Qt

    window = ctx.window  # type: ignore[attr-defined]
    power = ctx.power  # type: ignore[attr-defined]
    tools = power.answer_tools
    await start_sandbox(ctx)  # type: ignore[arg-type]
    for _ in range(100):
        if window.method_picker.entry("crm.deal.list") is not None:
            break
        await asyncio.sleep(0.1)
    tools.limits_dock.show()
    tools.limits_dock.raise_()
    window.resizeDocks([tools.limits_dock], [420], Qt.Orientation.Horizontal)

    window.choose_method("crm.deal.list")
    window.params_editor.set_text('{"select": ["ID", "TITLE", "STAGE_ID", "OPPORTUNITY", "CURRENCY_ID"],'
                                  ' "filter": {"<=ID": 60}}')
    await window.send()
    tools.pin_baseline()
    client = await ctx.workspace.client("Sandbox")  # type: ignore[attr-defined]
    await client.call("crm.deal.update", {"id": 7, "fields": {"TITLE": "Renewal, 2 seats more",
                                                               "OPPORTUNITY": 12500}})
    await client.call("crm.deal.update", {"id": 12, "fields": {"STAGE_ID": "WON"}})
    await client.call("crm.deal.delete", {"id": 21})
    window.choose_method("tasks.task.list")
    await window.send()
    window.choose_method("crm.deal.list")
    window.params_editor.set_text('{"select": ["ID", "TITLE", "STAGE_ID", "OPPORTUNITY", "CURRENCY_ID"],'
                                  ' "filter": {"<=ID": 60}}')
    for _ in range(4):
        await window.send()
    tools.compare_with_baseline()
    while tools.diff.running:
        await asyncio.sleep(0.05)
    tools.diff_dock.raise_()
    window.resizeDocks([tools.diff_dock], [330], Qt.Orientation.Vertical)
    await asyncio.sleep(0.5)
    out.mkdir(parents=True, exist_ok=True)
    tools.diff_dock.grab().save(str(out / "diff.png"), "PNG")
    tools.table_dock.raise_()
    tools.table.sort_by("OPPORTUNITY", descending=True)
    while tools.table.sorter.running:
        await asyncio.sleep(0.05)
    await asyncio.sleep(0.3)
    tools.table_dock.grab().save(str(out / "table.png"), "PNG")
    for burst in (30, 12, 20):  # bursts of calls drain the request bucket; it refills between them
        for _ in range(burst):
            await client.call("server.time")
        await asyncio.sleep(6)
    tools.limits.refresh()
    await asyncio.sleep(0.3)
    tools.limits_dock.grab().save(str(out / "limits.png"), "PNG")
    window.grab().save(str(out / "answer-tools-window.png"), "PNG")


def main() -> int:
    out = Path(sys.argv[1] if len(sys.argv) > 1 else Path(__file__).resolve().parents[1] / "docs")
    os.environ.setdefault("B24X_HOME", tempfile.mkdtemp(prefix="b24x-shots-"))
    from b24explorer.app import build, create_qapplication
    from b24explorer.core.state import MemoryState
    from b24explorer.ui.qt import qasync

    app = create_qapplication([])
    loop = qasync.QEventLoop(app)
    asyncio.set_event_loop(loop)
    ctx = build(settings=MemoryState())
    ctx.window.resize(1500, 950)
    ctx.window.show()
    with loop:
        loop.run_until_complete(shoot(ctx, out))
        loop.run_until_complete(ctx.aclose())
    return 0


if __name__ == "__main__":
    sys.exit(main())
