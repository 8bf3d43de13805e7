"""The note itself, with concepts coloured by ConText status or words shaded by their SHAP attribution.

The text is rendered as HTML with every character of the note kept in place, so a character offset in the note is
a cursor position in the document; hovering a highlighted word shows what it is (status, or attribution value).
"""
from __future__ import annotations

import bisect
import html

from PySide6.QtCore import QEvent
from PySide6.QtWidgets import QTextBrowser, QToolTip

from medstation.core.notes.model import Analysis
from medstation.gui.panes.notes.colours import (EVIDENCE_AGAINST, EVIDENCE_FOR, STATUS_COLOURS,
                                                STATUS_MEANING)

Span = tuple[int, int, str, str]  # start, end, inline CSS, hover text


def _blend(rgb: tuple[int, int, int], alpha: float, base: tuple[int, int, int]) -> str:
    mixed = [round(c * alpha + b * (1 - alpha)) for c, b in zip(rgb, base)]
    return "#{:02x}{:02x}{:02x}".format(*mixed)


def render_html(text: str, spans: list[Span], bold: list[tuple[int, int]]) -> str:
    """HTML for ``text`` with styled spans (which may overlap: their styles combine) and bold ranges; the
    characters of the text are unchanged, so document positions equal note offsets."""
    cuts = {0, len(text)}
    for start, end, *_ in spans:
        cuts.update((max(0, start), min(len(text), end)))
    for start, end in bold:
        cuts.update((max(0, start), min(len(text), end)))
    points = sorted(cuts)
    out = []
    for a, b in zip(points, points[1:]):
        style = "".join(st for s0, e0, st, _tip in spans if s0 <= a and b <= e0)
        if any(s0 <= a and b <= e0 for s0, e0 in bold):
            style += "font-weight:bold;"
        chunk = html.escape(text[a:b])
        out.append(f'<span style="{style}">{chunk}</span>' if style else chunk)
    return f'<div style="white-space: pre-wrap;">{"".join(out)}</div>'


class NoteTextView(QTextBrowser):
    """Shows one note; ``show_concepts`` and ``show_attributions`` switch what is highlighted."""

    def __init__(self, parent=None):
        super().__init__(parent)
        self.setOpenLinks(False)
        self.setMouseTracking(True)
        font = self.font()
        font.setPointSizeF(font.pointSizeF() * 1.3)
        self.setFont(font)
        self.text = ""
        self.mode = "concepts"
        self._starts: list[int] = []
        self._spans: list[Span] = []

    def _base_rgb(self) -> tuple[int, int, int]:
        colour = self.palette().base().color()
        return colour.red(), colour.green(), colour.blue()

    def _show(self, text: str, spans: list[Span], bold: list[tuple[int, int]], mode: str) -> None:
        self.text, self.mode = text, mode
        self._spans = sorted(spans, key=lambda s: s[0])
        self._starts = [s[0] for s in self._spans]
        self.setHtml(render_html(text, self._spans, bold))

    def show_plain(self, text: str) -> None:
        self._show(text, [], [], "plain")

    def show_concepts(self, analysis: Analysis) -> None:
        spans: list[Span] = []
        for c in analysis.concepts:
            colour = STATUS_COLOURS[c.status]
            tip = f"{c.text}: {c.category}, {STATUS_MEANING[c.status]} ({c.section})"
            spans.append((c.start, c.end, f"background-color:{colour}; color:#ffffff;", tip))
        cue_spans = {(m[0], m[1], m[2]) for c in analysis.concepts for m in c.modifiers}
        taken = [(s[0], s[1]) for s in spans]
        for start, end, category in sorted(cue_spans):
            if not any(a < end and start < b for a, b in taken):
                spans.append((start, end, "text-decoration: underline; font-style: italic;",
                              f"ConText cue: {category.lower().replace('_', ' ')}"))
                taken.append((start, end))
        bold = [(s.heading_start, s.start) for s in analysis.sections if s.heading_start >= 0]
        self._show(analysis.text, spans, bold, "concepts")

    def show_attributions(self, analysis: Analysis, explanation) -> None:
        scale = max((abs(t.value) for t in explanation.tokens), default=0.0)
        base = self._base_rgb()
        spans: list[Span] = []
        for t in explanation.tokens:
            if t.end <= t.start or not t.text.strip() or scale <= 0:
                continue
            alpha = min(1.0, abs(t.value) / scale) * 0.85 + 0.05 if t.value else 0.0
            rgb = EVIDENCE_FOR if t.value > 0 else EVIDENCE_AGAINST
            side = "for" if t.value > 0 else "against"
            spans.append((t.start, t.end, f"background-color:{_blend(rgb, alpha, base)};",
                          f"{t.text}: SHAP {t.value:+.4f} ({side} '{explanation.label}' present)"))
        for c in analysis.concepts:  # concepts stay visible: underlined, status on hover
            spans.append((c.start, c.end, "text-decoration: underline;",
                          f"concept {c.text}: {c.category}, {STATUS_MEANING[c.status]}"))
        bold = [(s.heading_start, s.start) for s in analysis.sections if s.heading_start >= 0]
        self._show(analysis.text, spans, bold, "evidence")

    # hover ------------------------------------------------------------------------------------------------
    def tooltip_at(self, offset: int) -> str:
        """What the highlighted spans at character ``offset`` mean ("" when nothing is highlighted there)."""
        i = bisect.bisect_right(self._starts, offset)
        return "\n".join(s[3] for s in self._spans[:i] if s[0] <= offset < s[1] and s[3])

    def viewportEvent(self, event) -> bool:
        if event.type() == QEvent.ToolTip:
            offset = self.cursorForPosition(event.pos()).position()
            tip = self.tooltip_at(offset)
            if tip:
                QToolTip.showText(event.globalPos(), tip, self.viewport())
            else:
                QToolTip.hideText()
            return True
        return super().viewportEvent(event)


def legend_html(mode: str, label: str = "") -> str:
    """The legend under the note for the current highlighting."""
    def swatch(colour: str, text: str) -> str:
        return f'<span style="background-color:{colour}; color:#ffffff;">&nbsp;{text}&nbsp;</span>'

    if mode == "evidence":
        red = "#{:02x}{:02x}{:02x}".format(*EVIDENCE_FOR)
        blue = "#{:02x}{:02x}{:02x}".format(*EVIDENCE_AGAINST)
        return (f"SHAP evidence for <b>{html.escape(label)}</b>: {swatch(red, 'for present')} "
                f"{swatch(blue, 'against present')} &nbsp;deeper colour = larger attribution; hover a word for "
                "its value; <u>underlined</u> = concept")
    items = " ".join(swatch(STATUS_COLOURS[k], STATUS_MEANING[k]) for k in STATUS_COLOURS)
    return f"Concepts: {items} &nbsp;<i><u>cue</u></i> = ConText trigger"
