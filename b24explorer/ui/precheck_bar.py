"""The pre-send checks under the params editor: one line per finding (error, warning, note), with what to
write instead when there is one answer. Hidden when the request looks right."""

from __future__ import annotations

from collections.abc import Sequence
from html import escape
from typing import TYPE_CHECKING

from b24explorer.ui.qt import QLabel, Qt, QWidget

if TYPE_CHECKING:
    from b24explorer.core.precheck import Finding

_LOOK = {"error": ("✖", "#c62828"), "warning": ("⚠", "#b26a00"), "info": ("ℹ", "gray")}


def finding_text(finding: Finding) -> str:
    """One finding as a line of plain text (the log says the same)."""
    where = f"{finding.path}: " if finding.path else ""
    instead = f" → {finding.suggestion}" if finding.suggestion else ""
    return f"{where}{finding.message}{instead}"


class PrecheckBar(QLabel):
    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("precheckBar")
        self.setWordWrap(True)
        self.setTextFormat(Qt.TextFormat.RichText)
        self.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.findings: list[Finding] = []
        self.hide()

    def show_findings(self, findings: Sequence[Finding]) -> None:
        self.findings = list(findings)
        if not self.findings:
            self.clear()
            self.hide()
            return
        lines = []
        for finding in self.findings:
            mark, colour = _LOOK.get(str(finding.severity), ("•", "gray"))
            lines.append(f"<span style='color:{colour}'>{mark}</span> {escape(finding_text(finding), quote=False)}")
        self.setText("<br>".join(lines))
        self.show()
