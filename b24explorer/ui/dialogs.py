"""Dialog helpers that never block the asyncio loop: open a dialog and await its answer."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import asyncio

    from b24explorer.ui.qt import QDialog


async def run_dialog(dialog: QDialog) -> int:
    """Show ``dialog`` window-modal (``open()``, no nested event loop) and wait until it closes."""
    import asyncio

    loop = asyncio.get_running_loop()
    done: asyncio.Future[int] = loop.create_future()

    def finished(code: int) -> None:
        if not done.done():
            done.set_result(code)

    dialog.finished.connect(finished)
    dialog.open()
    try:
        return await done
    finally:
        dialog.finished.disconnect(finished)
