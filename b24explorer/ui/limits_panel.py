"""Limits at a glance: a small live picture of what the connection's limiters know — per method, the operating
time used against its 480 s budget and when it resets; below, the request-rate bucket over the last minutes.
Drawn with QPainter from :class:`~b24explorer.core.limits_glance.LimitsSnapshot`, repainted every second."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from .qt import QColor, QFont, QPainter, QPen, QPoint, Qt, QTimer, QWidget, is_dark

if TYPE_CHECKING:
    from b24explorer.core.limits_glance import LimitsMonitor, LimitsSnapshot

    from .qt import QPaintEvent

METHODS_SHOWN = 8


def _seconds(value: float) -> str:
    if value >= 60:
        return f"{int(value // 60)} min {int(value % 60):02d} s"
    return f"{value:.0f} s" if value >= 10 else f"{value:.1f} s"


class LimitsPanel(QWidget):
    """Paints the latest snapshot of a :class:`~b24explorer.core.limits_glance.LimitsMonitor`."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("limitsPanel")
        self.setMinimumSize(260, 240)
        self.monitor: LimitsMonitor | None = None
        self.snapshot: LimitsSnapshot | None = None
        self.title = ""
        self._pending = False
        self._timer = QTimer(self)
        self._timer.setInterval(1000)
        self._timer.timeout.connect(self.refresh)

    def watch(self, monitor: LimitsMonitor | None, title: str = "") -> None:
        """Show this monitor's limiters (None: nothing to show); the previous monitor is closed."""
        if self.monitor is not None and self.monitor is not monitor:
            self.monitor.close()
        self.monitor = monitor
        self.title = title
        if monitor is None:
            self._timer.stop()
            self.snapshot = None
            self.update()
        else:
            self._timer.start()
            self.refresh()

    def changed(self) -> None:
        """The limiters changed (called on each request, inside the client's call): repaint soon, once."""
        if not self._pending:
            self._pending = True
            QTimer.singleShot(100, self._flush)

    def _flush(self) -> None:
        self._pending = False
        self.refresh()

    def refresh(self) -> None:
        """A sample now (the bucket refills while idle) and a repaint."""
        if self.monitor is not None:
            self.monitor.sample()
            self.snapshot = self.monitor.snapshot()
        self.update()

    # --- painting ---------------------------------------------------------------------------------------------
    def paintEvent(self, _event: QPaintEvent) -> None:
        painter = QPainter(self)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        dark = is_dark(self.palette())
        text = QColor("#e6e6e6") if dark else QColor("#202020")
        muted = QColor("#9a9a9a") if dark else QColor("#707070")
        painter.fillRect(self.rect(), self.palette().base())
        metrics = painter.fontMetrics()
        line = metrics.height()
        width = self.width() - 16
        y = 8 + line
        painter.setPen(text)
        bold = QFont(painter.font())
        bold.setBold(True)
        painter.setFont(bold)
        painter.drawText(8, y, f"Operating time per method{f' — {self.title}' if self.title else ''}")
        painter.setFont(self.font())
        snapshot = self.snapshot
        if snapshot is None:
            painter.setPen(muted)
            painter.drawText(8, y + line + 4, "No connection in use yet.")
            return
        budgets = list(snapshot.budgets)[:METHODS_SHOWN]
        y += 6
        if not budgets:
            painter.setPen(muted)
            painter.drawText(8, y + line, "No method has used operating time in the last 10 minutes.")
            y += line + 8
        for budget in budgets:
            y = self._draw_budget(painter, budget, y, width, text, muted)
        bucket_top = max(y + 14, self.height() // 2)
        self._draw_bucket(painter, snapshot, bucket_top, width, text, muted, dark)
        painter.end()

    def _draw_budget(self, painter: QPainter, budget: Any, y: int, width: int, text: QColor,
                     muted: QColor) -> int:
        line = painter.fontMetrics().height()
        bar_h = max(8, line // 2 + 2)
        painter.setPen(text)
        label = f"{budget.method}{' · v3' if budget.api == 3 else ''}"
        painter.drawText(8, y + line, painter.fontMetrics().elidedText(label, Qt.TextElideMode.ElideRight,
                                                                         width * 45 // 100))
        reset = f"resets in {_seconds(budget.reset_in)}" if budget.reset_in is not None else "no reset yet"
        figures = f"{_seconds(budget.used)} of {budget.limit:.0f} s · {reset}"
        painter.setPen(muted)
        painter.drawText(8 + width - painter.fontMetrics().horizontalAdvance(figures), y + line, figures)
        top = y + line + 4
        painter.setPen(Qt.PenStyle.NoPen)
        painter.setBrush(QColor(128, 128, 128, 60))
        painter.drawRoundedRect(8, top, width, bar_h, 3, 3)
        fraction = min(1.0, budget.used / budget.limit) if budget.limit else 0.0
        colour = QColor("#2e7d32") if fraction < 0.5 else QColor("#e09b00") if fraction < 0.8 else QColor("#c62828")
        if budget.blocked_for:
            colour = QColor("#c62828")
        painter.setBrush(colour)
        painter.drawRoundedRect(8, top, max(2, int(width * fraction)), bar_h, 3, 3)
        return top + bar_h + 6

    def _draw_bucket(self, painter: QPainter, snapshot: LimitsSnapshot, top: int, width: int, text: QColor,
                     muted: QColor, dark: bool) -> None:
        line = painter.fontMetrics().height()
        bucket = snapshot.buckets.get(2)
        series = snapshot.series.get(2, ())
        painter.setPen(text)
        title = "Request bucket (v2)"
        if bucket is not None:
            title += f": {bucket.tokens:.0f} of {bucket.burst:.0f} free, +{bucket.drain_rate:g}/s"
        painter.drawText(8, top, painter.fontMetrics().elidedText(title, Qt.TextElideMode.ElideRight, width))
        chart_top = top + 6
        chart_h = self.height() - chart_top - line - 8
        if chart_h < 20 or bucket is None:
            return
        painter.setPen(QPen(QColor(128, 128, 128, 110), 1))
        painter.setBrush(Qt.BrushStyle.NoBrush)
        painter.drawRect(8, chart_top, width, chart_h)
        if not series:
            return
        now = series[-1].at
        span = min(300.0, max(30.0, now - series[0].at))  # the time seen so far, at most five minutes
        burst = max(1.0, max(s.burst for s in series))

        def point(at: float, tokens: float) -> QPoint:
            x = 8 + int(width * max(0.0, 1.0 - (now - at) / span))
            y = chart_top + chart_h - int(chart_h * max(0.0, min(1.0, tokens / burst)))
            return QPoint(x, y)

        points = [point(s.at, s.tokens) for s in series]
        if len(points) == 1:
            points.insert(0, QPoint(points[0].x() - 2, points[0].y()))
        line_colour = QColor("#6cb4ff") if dark else QColor("#1565c0")
        area = QColor(line_colour)
        area.setAlpha(50)
        floor = chart_top + chart_h
        painter.setPen(Qt.PenStyle.NoPen)
        painter.setBrush(area)
        painter.drawPolygon([QPoint(points[0].x(), floor), *points, QPoint(points[-1].x(), floor)])
        painter.setPen(QPen(line_colour, 2))
        painter.setBrush(Qt.BrushStyle.NoBrush)
        painter.drawPolyline(points)
        painter.setPen(muted)
        since = f"−{span / 60:.0f} min" if span >= 90 else f"−{span:.0f} s"
        painter.drawText(8, chart_top + chart_h + line, since)
        painter.drawText(8 + width - painter.fontMetrics().horizontalAdvance("now"), chart_top + chart_h + line, "now")
