"""Request modes: what the window's Send and Cancel act on, and what the window offers a mode in return.

The single-request editor is the window's own mode; Batch, List all and the REST v3 migration view are
added with :meth:`~b24explorer.ui.main_window.MainWindow.add_mode`. A mode is a widget that implements
:class:`RequestMode`; it reaches the rest of the app only through the :class:`ModeHost` it is given.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Protocol

if TYPE_CHECKING:
    import asyncio

    from b24explorer.core.client import B24Client
    from b24explorer.core.outcome import RequestOutcome

MODE_SINGLE = "single"
MODE_BATCH = "batch"
MODE_LIST = "list"
MODE_MIGRATION = "migration"


class RequestMode(Protocol):
    """A request editor the window can send and cancel."""

    def send(self) -> asyncio.Task[Any] | None:
        """Validate and send; the running task, or None when nothing went out (the mode says why)."""
        ...

    def cancel(self) -> None: ...

    def is_busy(self) -> bool: ...


class ModeHost(Protocol):
    """What the window offers its modes (and the features that add them)."""

    @property
    def connection_id(self) -> str:
        """The id of the connection requests go through ("" when there is none)."""
        ...

    async def client(self) -> B24Client:
        """The current connection's client; LookupError when there is no connection."""
        ...

    def new_outcome(self, kind: str, method: str, api: int, params: Any,
                    request_id: str | None = None) -> RequestOutcome:
        """An outcome for a request about to go through the current connection."""
        ...

    def request_done(self, outcome: RequestOutcome) -> None:
        """A request of a mode finished: it is recorded in the history and announced (``request_finished``)."""
        ...
