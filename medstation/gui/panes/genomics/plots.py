"""pyqtgraph views of the Genomics pane: the SHAP waterfall of the selected call, and the HMM genome track."""
from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QLabel, QVBoxLayout, QWidget

from medstation.gui.theme import plot_colours

POSITIVE, NEGATIVE = "#d64541", "#2f7fbf"
STATE_COLOURS = {"ROH": "#d64541", "not ROH": "#7f8c8d", "short homozygous stretch (not called)": "#e8b0a8", "low VAF (subclonal)": "#2f7fbf",
                 "mid VAF (heterozygous)": "#3a9d5d", "high VAF (LOH / homozygous)": "#d64541"}


def _plot() -> pg.PlotWidget:
    colours = plot_colours()
    plot = pg.PlotWidget(background=colours["background"])
    for axis in ("left", "bottom"):
        plot.getAxis(axis).setPen(colours["foreground"])
        plot.getAxis(axis).setTextPen(colours["foreground"])
    plot.setMenuEnabled(False)
    return plot


class ShapWaterfallPlot(QWidget):
    """From the model's average prediction, each feature moves P(real call) up (red) or down (blue)."""

    def __init__(self, parent=None, top: int = 10):
        super().__init__(parent)
        self.top = top
        self.title = QLabel("Select a call to see why the model scored it.")
        self.title.setWordWrap(True)
        self.plot = _plot()
        self.plot.setLabel("bottom", "P(real call)")
        self.plot.getAxis("left").setWidth(170)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.title)
        layout.addWidget(self.plot, 1)
        self.bars: list[tuple[str, float, float]] = []  # (label, start, end) as drawn

    def clear(self, message: str) -> None:
        self.plot.clear()
        self.bars = []
        self.title.setText(message)

    def show_waterfall(self, waterfall) -> None:
        self.plot.clear()
        items = waterfall.contributions[: self.top]
        rest = sum(c[2] for c in waterfall.contributions[self.top:])
        rows = [(f"{name} = {value:.3g}", shap) for name, value, shap in items] + [("other features", rest)]
        running, self.bars = waterfall.base, []
        n = len(rows)
        for i, (label, shap) in enumerate(rows):
            y = n - i
            start, end = running, running + shap
            colour = POSITIVE if shap >= 0 else NEGATIVE
            bar = pg.BarGraphItem(x0=[min(start, end)], width=[max(abs(shap), 1e-3)], y=[y], height=0.7,
                                  brush=colour, pen=None)
            self.plot.addItem(bar)
            text = pg.TextItem(f"{shap:+.3f}", color=plot_colours()["foreground"], anchor=(0, 0.5))
            text.setPos(max(start, end) + 0.005, y)
            self.plot.addItem(text)
            self.bars.append((label, start, end))
            running = end
        self.plot.addItem(pg.InfiniteLine(waterfall.base, angle=90, pen=pg.mkPen("#888888", style=Qt.DashLine)))
        self.plot.addItem(pg.InfiniteLine(waterfall.value, angle=90, pen=pg.mkPen(plot_colours()["accent"])))
        ticks = [(n - i, label) for i, (label, _s) in enumerate(rows)]
        self.plot.getAxis("left").setTicks([ticks])
        lo = min(b[1] for b in self.bars + [("", waterfall.base, waterfall.value)])
        hi = max(max(b[1], b[2]) for b in self.bars + [("", waterfall.base, waterfall.value)])
        self.plot.setXRange(min(0.0, lo) - 0.02, max(1.0, hi) + 0.08, padding=0)
        self.plot.setYRange(0.3, n + 0.7, padding=0)
        self.title.setText(f"SHAP waterfall: model average {waterfall.base:.3f} -> this call {waterfall.value:.3f} "
                           "(red raises, blue lowers P(real call))")


class GenomeTrack(QWidget):
    """HMM segments laid along the genome (chromosomes end to end), over the per-site values they were fitted to."""

    def __init__(self, parent=None):
        super().__init__(parent)
        self.caption = QLabel("Open a VCF to see runs of homozygosity or allele-fraction segments.")
        self.caption.setWordWrap(True)
        self.plot = _plot()
        self.plot.setLabel("bottom", "genome position (chromosomes end to end)")
        self.plot.setMouseEnabled(x=True, y=False)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.caption)
        layout.addWidget(self.plot, 1)
        self.drawn: list[tuple[str, float, float]] = []  # (state, x0, x1) per segment drawn

    def show_segments(self, hmm, sample: str | None = None) -> None:
        self.plot.clear()
        self.drawn = []
        sample = sample or (hmm.samples[0] if hmm.samples else "")
        segments = [s for s in hmm.segments if s.sample == sample]
        if not segments:
            self.caption.setText("No segments for this sample.")
            return
        offsets, ticks, x = {}, [], 0.0
        for chrom in dict.fromkeys(s.chrom for s in segments):
            own = [s for s in segments if s.chrom == chrom]
            start, end = min(s.start for s in own), max(s.end for s in own)
            offsets[chrom] = x - start
            ticks.append((x + (end - start) / 2, chrom))
            x += (end - start) + max(1.0, (end - start) * 0.02)
        for state in dict.fromkeys(s.state for s in segments):  # one bar item and one curve per state
            own = [s for s in segments if s.state == state]
            x0 = np.array([s.start + offsets[s.chrom] for s in own], dtype=float)
            x1 = np.array([s.end + offsets[s.chrom] + 1 for s in own], dtype=float)
            values = np.array([s.value for s in own], dtype=float)
            colour = STATE_COLOURS.get(state, "#999999")
            self.plot.addItem(pg.BarGraphItem(x0=x0, width=x1 - x0, y0=np.full(len(own), -0.12),
                                              height=np.full(len(own), 0.1), brush=colour, pen=None))
            xs = np.column_stack([x0, x1]).ravel()
            ys = np.repeat(values, 2)
            self.plot.addItem(pg.PlotCurveItem(xs, ys, connect="pairs", pen=pg.mkPen(colour, width=2)))
            self.drawn += [(state, a, b) for a, b in zip(x0.tolist(), x1.tolist())]
        self.plot.getAxis("bottom").setTicks([ticks])
        self.plot.setYRange(-0.15, 1.05, padding=0)
        ylabel = "heterozygous fraction" if hmm.kind == "runs of homozygosity" else "variant allele fraction"
        self.plot.setLabel("left", ylabel)
        legend = ", ".join(f"<span style='color:{STATE_COLOURS.get(k, '#999')}'>{k}</span>"
                           for k in dict.fromkeys(s.state for s in segments))
        summary = hmm.summary or {}
        sparse = (summary.get("too_sparse") or {}).get(sample, "")
        rule = f" Runs of homozygosity: {summary['thresholds']}." if summary.get("thresholds") else ""
        self.caption.setText(f"{hmm.kind} (hmmlearn) for {sample}: {len(segments)} segments - {legend}." +
                             (f" <b>{sparse[:1].upper() + sparse[1:]}.</b>" if sparse else rule))
