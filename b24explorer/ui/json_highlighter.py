"""Syntax colours for JSON text editors (params, batch commands, list-all params).

Its own module so the window's start does not build the Qt classes it uses (QSyntaxHighlighter, QTextCharFormat,
QRegularExpression…): the params editor colours its text right after the window has first painted.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from b24explorer.ui.qt import QColor, QFont, QRegularExpression, QSyntaxHighlighter, QTextCharFormat, is_dark

if TYPE_CHECKING:
    from b24explorer.ui.qt import QTextDocument


class JsonHighlighter(QSyntaxHighlighter):
    """Colours keys, strings, numbers, literals and punctuation; follows the light/dark palette."""

    _RULES = (
        ("number", r"-?\b\d+(?:\.\d+)?(?:[eE][+-]?\d+)?\b"),
        ("literal", r"\b(?:true|false|null)\b"),
        ("string", r'"(?:[^"\\]|\\.)*"'),
        ("key", r'"(?:[^"\\]|\\.)*"(?=\s*:)'),
        ("punct", r"[{}\[\],:]"),
    )

    def __init__(self, document: QTextDocument) -> None:
        super().__init__(document)
        self._rules = [(name, QRegularExpression(pattern)) for name, pattern in self._RULES]
        self.apply_palette()

    def apply_palette(self) -> None:
        dark = is_dark()
        colours = {
            "key": "#9cdcfe" if dark else "#0451a5",
            "string": "#ce9178" if dark else "#a31515",
            "number": "#b5cea8" if dark else "#098658",
            "literal": "#569cd6" if dark else "#0000ff",
            "punct": "#8a8a8a" if dark else "#6a6a6a",
        }
        self._formats: dict[str, QTextCharFormat] = {}
        for name, colour in colours.items():
            fmt = QTextCharFormat()
            fmt.setForeground(QColor(colour))
            if name == "key":
                fmt.setFontWeight(QFont.Weight.DemiBold)
            self._formats[name] = fmt
        self.rehighlight()

    def highlightBlock(self, text: str) -> None:
        for name, regex in self._rules:
            it = regex.globalMatch(text)
            while it.hasNext():
                match = it.next()
                self.setFormat(match.capturedStart(), match.capturedLength(), self._formats[name])
