"""The response status line: HTTP status, duration, size, request id, operating budget, total/next."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, NamedTuple

from b24explorer.ui import qt
from b24explorer.ui.qt import QHBoxLayout, QLabel, Qt, QWidget

if TYPE_CHECKING:
    from b24explorer.ui.qt import QProgressBar

OPERATING_BUDGET_S = 480.0  # per method, per 10 minutes (the portal blocks it beyond this)


def human_size(n: int) -> str:
    size = float(n)
    for unit in ("B", "KB", "MB", "GB"):
        if size < 1024 or unit == "GB":
            return f"{size:.0f} {unit}" if unit == "B" else f"{size:.1f} {unit}"
        size /= 1024
    return f"{n} B"


def human_duration(seconds: float) -> str:
    return f"{seconds * 1000:.0f} ms" if seconds < 1 else f"{seconds:.2f} s"


class ResponseFacts(NamedTuple):
    """What the status line shows of one answer (or failure)."""

    status: int | None
    elapsed: float | None
    size: int | None
    request_id: str | None
    operating: float | None = None
    total: int | None = None
    next: int | None = None
    ok: bool = True
    api: int = 2
    error_code: str = ""

    @classmethod
    def from_result(cls, result: Any, elapsed: float | None = None) -> ResponseFacts:
        time = getattr(result, "time", None)
        is_list = isinstance(getattr(result, "result", None), list | dict) and (
            getattr(result, "next", None) is not None or bool(getattr(result, "total", None))
        )
        error = getattr(result, "error", None)
        return cls(
            status=getattr(result, "status", None),
            elapsed=getattr(result, "elapsed", None) or elapsed,
            size=getattr(result, "size", None),
            request_id=getattr(result, "request_id", None),
            operating=getattr(time, "operating", None) if time is not None else None,
            total=getattr(result, "total", None) if is_list else None,
            next=getattr(result, "next", None) if is_list else None,
            ok=bool(getattr(result, "is_success", True)),
            api=int(getattr(result, "api", 2) or 2),
            error_code=getattr(error, "code", "") if error is not None else "",
        )

    @classmethod
    def from_error(cls, error: Any, elapsed: float | None = None) -> ResponseFacts:
        return cls(
            status=getattr(error, "status", None) or None,
            elapsed=elapsed,
            size=None,
            request_id=getattr(error, "request_id", None),
            ok=False,
            error_code=str(getattr(error, "code", type(error).__name__)),
        )


class ResponseStatus(QWidget):
    """A compact row of labelled facts, meant for the main window's status bar."""

    status_label: QLabel
    time_label: QLabel
    size_label: QLabel
    request_label: QLabel
    list_label: QLabel
    operating_label: QLabel
    operating_bar: QProgressBar

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.facts: ResponseFacts | None = None
        self._labels: tuple[QLabel, ...] = ()  # made with the first request: the row is empty until then
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(14)

    def _make_labels(self) -> None:
        if self._labels:
            return
        self.status_label = QLabel(self)
        self.status_label.setObjectName("httpStatus")
        self.time_label = QLabel(self)
        self.size_label = QLabel(self)
        self.request_label = QLabel(self)
        self.request_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.list_label = QLabel(self)
        self.operating_label = QLabel(self)
        self.operating_bar = qt.QProgressBar(self)
        self.operating_bar.setRange(0, 1000)
        self.operating_bar.setTextVisible(False)
        self.operating_bar.setFixedWidth(70)
        self.operating_bar.setFixedHeight(10)
        self.operating_bar.setToolTip(
            "time.operating: seconds this method has used of its 480 s budget per 10 minutes"
        )
        self._labels = (self.status_label, self.time_label, self.size_label, self.list_label, self.request_label,
                        self.operating_label)
        layout = self.layout()
        assert layout is not None
        for widget in (*self._labels, self.operating_bar):
            widget.hide()
            layout.addWidget(widget)

    def clear(self) -> None:
        self.facts = None
        for label in self._labels:
            label.clear()
            label.hide()
        if self._labels:
            self.operating_bar.hide()

    def show_busy(self, method: str) -> None:
        self._make_labels()
        self.clear()
        self.status_label.setText(f"Sending {method} …")
        self.status_label.setStyleSheet("")
        self.status_label.show()

    def show_facts(self, facts: ResponseFacts) -> None:
        self._make_labels()
        self.clear()
        self.facts = facts
        colour = "#2e7d32" if facts.ok else "#c62828"
        status = f"HTTP {facts.status}" if facts.status else "no HTTP answer"
        if facts.error_code:
            status += f" · {facts.error_code}"
        self.status_label.setText(f"<b style='color:{colour}'>{status}</b>")
        self.status_label.show()
        if facts.elapsed is not None:
            self.time_label.setText(human_duration(facts.elapsed))
            self.time_label.show()
        if facts.size is not None:
            self.size_label.setText(human_size(facts.size))
            self.size_label.show()
        if facts.total is not None or facts.next is not None:
            parts = []
            if facts.total is not None:
                parts.append(f"total {facts.total}")
            parts.append(f"next {facts.next}" if facts.next is not None else "last page")
            self.list_label.setText(" · ".join(parts))
            self.list_label.show()
        if facts.request_id:
            self.request_label.setText(f"id {facts.request_id}")
            self.request_label.setToolTip("Request id (bx24_request_id); select to copy")
            self.request_label.show()
        if facts.operating is not None:
            share = facts.operating / OPERATING_BUDGET_S
            # The client pauses a method at 475 s; warn from the SDK's "heavy" mark (80 % of the budget).
            colour = "#c62828" if facts.operating >= 475 else ("#b26a00" if share >= 0.8 else "")
            text = f"operating {facts.operating:.2f} s / {OPERATING_BUDGET_S:.0f} s"
            self.operating_label.setText(f"<b style='color:{colour}'>{text}</b>" if colour else text)
            self.operating_label.setToolTip(
                "time.operating: seconds of server time this method used in the current 10-minute window; the "
                "portal blocks the method at 480 s")
            self.operating_bar.setValue(int(min(1.0, share) * 1000))
            self.operating_label.show()
            self.operating_bar.show()
