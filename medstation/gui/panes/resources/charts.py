"""The Resources pane's charts (pyqtgraph): census against capacity, admissions and discharges, arrivals heat map,
length-of-stay boxes, and the census forecast. Each chart shows the value under the mouse in its readout line,
zooms with the wheel, and can hand back the numbers it shows (``table()``) for CSV export."""
from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QLabel, QVBoxLayout, QWidget

from medstation.core.resources.analytics import WEEKDAYS
from medstation.gui.theme import plot_colours

UNIT_COLOURS = ("#4fa3e0", "#e0a040", "#6cc070", "#d86a6a", "#a98bd8", "#d0c060", "#50c0c0", "#e07fb8",
                "#9aa5ad", "#c08a5a")


def epoch_seconds(days: np.ndarray) -> np.ndarray:
    return days.astype("datetime64[s]").astype(np.int64).astype(float)


class ChartPanel(QWidget):
    """A titled pyqtgraph plot with a hover readout line beneath it."""

    def __init__(self, title: str, date_axis: bool = False, parent: QWidget | None = None):
        super().__init__(parent)
        colours = plot_colours()
        axis = {"bottom": pg.DateAxisItem()} if date_axis else {}
        self.plot = pg.PlotWidget(axisItems=axis, background=colours["background"])
        self.plot.setTitle(title, color=colours["foreground"])
        self.plot.showGrid(x=True, y=True, alpha=0.2)
        self.readout = QLabel(" ")
        self.readout.setTextInteractionFlags(Qt.TextSelectableByMouse)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.plot, 1)
        layout.addWidget(self.readout)
        self._proxy = pg.SignalProxy(self.plot.scene().sigMouseMoved, rateLimit=30, slot=self._moved)

    def _moved(self, event) -> None:
        pos = event[0]
        if self.plot.sceneBoundingRect().contains(pos):
            point = self.plot.plotItem.vb.mapSceneToView(pos)
            self.readout.setText(self.describe(point.x(), point.y()) or " ")

    def describe(self, x: float, y: float) -> str:  # overridden: text for the point under the mouse
        return ""

    def table(self) -> tuple[list[str], list[list]]:  # overridden: (header, rows) of what is drawn
        return [], []


class CensusChart(ChartPanel):
    """Daily census of each chosen unit (or the hospital) with its capacity as a dashed line."""

    def __init__(self, parent=None):
        super().__init__("Daily census against capacity", date_axis=True, parent=parent)
        self.plot.addLegend(offset=(10, 10), brush=legend_brush())
        self.plot.setLabel("left", "patients")
        self.days = np.array([], dtype="datetime64[D]")
        self.lines: dict[str, tuple[np.ndarray, float]] = {}

    def show_census(self, days: np.ndarray, series: dict[str, tuple[np.ndarray, float]], kind: str) -> None:
        self.plot.clear()
        self.days, self.lines = days, series
        self.plot.setTitle(f"Daily census ({kind}) against capacity (dashed)", color=plot_colours()["foreground"])
        x = epoch_seconds(days)
        for i, (name, (census, capacity)) in enumerate(series.items()):
            colour = UNIT_COLOURS[i % len(UNIT_COLOURS)]
            self.plot.plot(x, census, pen=pg.mkPen(colour, width=2), name=name)
            if len(x):
                self.plot.plot([x[0], x[-1]], [capacity, capacity], pen=pg.mkPen(colour, width=1,
                                                                                  style=Qt.DashLine))
        self.plot.enableAutoRange()

    def describe(self, x: float, y: float) -> str:
        if not len(self.days):
            return ""
        i = int(np.clip(np.searchsorted(epoch_seconds(self.days), x), 0, len(self.days) - 1))
        parts = [f"{name} {int(c[i])}/{cap:.0f} ({c[i] / cap * 100:.0f}%)" if cap else f"{name} {int(c[i])}"
                 for name, (c, cap) in self.lines.items()]
        return f"{self.days[i]}: " + ", ".join(parts)

    def table(self):
        names = list(self.lines)
        header = ["day"] + [f"{n} census" for n in names] + [f"{n} capacity" for n in names]
        rows = [[str(d)] + [int(self.lines[n][0][i]) for n in names] + [self.lines[n][1] for n in names]
                for i, d in enumerate(self.days)]
        return header, rows


class FlowChart(ChartPanel):
    """Admissions (bars up) and discharges (bars down) per day."""

    def __init__(self, parent=None):
        super().__init__("Admissions and discharges per day", date_axis=True, parent=parent)
        self.plot.addLegend(offset=(10, 10), brush=legend_brush())
        self.days = np.array([], dtype="datetime64[D]")
        self.adm = self.dis = np.array([])

    def show_flow(self, days, admissions, discharges) -> None:
        self.plot.clear()
        self.days, self.adm, self.dis = days, admissions, discharges
        x = epoch_seconds(days)
        width = 86400 * 0.8
        self.plot.addItem(pg.BarGraphItem(x=x, height=admissions, width=width, brush="#4fa3e0", name="admissions"))
        self.plot.addItem(pg.BarGraphItem(x=x, height=-discharges, width=width, brush="#e0a040",
                                          name="discharges"))
        self.plot.enableAutoRange()

    def describe(self, x, y):
        if not len(self.days):
            return ""
        i = int(np.clip(np.searchsorted(epoch_seconds(self.days) - 43200, x) - 1, 0, len(self.days) - 1))
        return f"{self.days[i]}: {int(self.adm[i])} admitted, {int(self.dis[i])} discharged"

    def table(self):
        return ["day", "admissions", "discharges"], [[str(d), int(a), int(b)] for d, a, b in
                                                      zip(self.days, self.adm, self.dis)]


class ArrivalsHeatmap(ChartPanel):
    """Arrivals by weekday (rows, Monday at the top) and hour of day (columns)."""

    def __init__(self, parent=None):
        super().__init__("Arrivals by weekday and hour", parent=parent)
        self.image = pg.ImageItem()
        self.image.setColorMap(pg.colormap.get("viridis"))
        self.plot.addItem(self.image)
        self.plot.invertY(True)
        self.plot.getAxis("left").setTicks([[(i + 0.5, d) for i, d in enumerate(WEEKDAYS)]])
        self.plot.getAxis("bottom").setTicks([[(h + 0.5, f"{h:02d}") for h in range(0, 24, 2)]])
        self.plot.setLabel("bottom", "hour of arrival")
        self.bar = pg.ColorBarItem(colorMap=pg.colormap.get("viridis"), interactive=False, label="arrivals")
        self.bar.setImageItem(self.image, insert_in=self.plot.plotItem)
        self.grid = np.zeros((7, 24))

    def show_grid(self, grid: np.ndarray) -> None:
        self.grid = grid
        self.image.setImage(grid.astype(float), autoLevels=False)
        self.image.setRect(0, 0, 24, 7)
        self.bar.setLevels((0, max(float(grid.max()), 1.0)))
        self.plot.setRange(xRange=(0, 24), yRange=(0, 7), padding=0)

    def describe(self, x, y):
        if 0 <= x < 24 and 0 <= y < 7:
            return f"{WEEKDAYS[int(y)]} {int(x):02d}:00-{int(x):02d}:59: {int(self.grid[int(y), int(x)])} arrivals"
        return ""

    def table(self):
        return ["weekday"] + [f"{h:02d}" for h in range(24)], [[WEEKDAYS[d], *map(int, self.grid[d])]
                                                                for d in range(7)]


class LosBoxes(ChartPanel):
    """Length of stay per group: box from quartile to quartile, median line, whiskers 5th-95th percentile."""

    def __init__(self, title: str, parent=None):
        super().__init__(f"{title} (box: quartiles, white: median, whiskers: 5th-95th centile)", parent=parent)
        self.groups = []
        self.unit = "days"

    def show_groups(self, groups, unit: str) -> None:
        self.plot.clear()
        self.groups, self.unit = groups, unit
        self.plot.setLabel("left", f"length ({unit})")
        if not groups:
            return
        x = np.arange(len(groups), dtype=float)
        q1, q3 = np.array([g.q1 for g in groups]), np.array([g.q3 for g in groups])
        med = np.array([g.median for g in groups])
        self.plot.addItem(pg.ErrorBarItem(x=x, y=med, top=np.array([g.p95 for g in groups]) - med,
                                          bottom=med - np.array([g.p5 for g in groups]), beam=0.25,
                                          pen=pg.mkPen("#9aa5ad")))
        self.plot.addItem(pg.BarGraphItem(x=x, y0=q1, height=q3 - q1, width=0.6, brush="#2f6f9f",
                                          pen=pg.mkPen("#4fa3e0")))
        self.plot.addItem(pg.ErrorBarItem(x=x, y=med, left=0.3, right=0.3, beam=0, pen=pg.mkPen("#ffffff",
                                                                                                 width=2)))
        self.plot.getAxis("bottom").setTicks([[(i, g.group[:14]) for i, g in enumerate(groups)]])
        self.plot.setRange(xRange=(-0.6, len(groups) - 0.4), yRange=(0, max(g.p95 for g in groups) * 1.05))

    def describe(self, x, y):
        i = int(round(x))
        if 0 <= i < len(self.groups):
            g = self.groups[i]
            return (f"{g.group}: n={g.n:,}, median {g.median:.1f}, IQR {g.q1:.1f}-{g.q3:.1f}, "
                    f"5-95% {g.p5:.1f}-{g.p95:.1f}, mean {g.mean:.1f} {self.unit}")
        return ""

    def table(self):
        return (["group", "n", "mean", "p5", "q1", "median", "q3", "p95"],
                [[g.group, g.n, g.mean, g.p5, g.q1, g.median, g.q3, g.p95] for g in self.groups])


class ForecastChart(ChartPanel):
    """Recent census, the forecast mean and its 80% and 95% prediction intervals."""

    def __init__(self, parent=None):
        super().__init__("Census forecast", date_axis=True, parent=parent)
        self.plot.addLegend(offset=(10, 10), brush=legend_brush())
        self.history = (np.array([], dtype="datetime64[D]"), np.array([]))
        self.result = None

    def show_forecast(self, days, census, result) -> None:
        self.plot.clear()
        self.history, self.result = (days, census), result
        self.plot.setTitle(f"{result.unit}: {len(result.mean)}-day census forecast ({result.model}); shaded: 80% "
                           "(dark) and 95% (light) prediction intervals",
                           color=plot_colours()["foreground"])
        self.plot.plot(epoch_seconds(days), census, pen=pg.mkPen("#cfd4d8", width=2), name="census")
        fx = epoch_seconds(result.days)
        for lo, hi, alpha in ((result.lower95, result.upper95, 50), (result.lower80, result.upper80, 90)):
            a = pg.PlotCurveItem(fx, lo, pen=pg.mkPen(79, 163, 224, alpha))
            b = pg.PlotCurveItem(fx, hi, pen=pg.mkPen(79, 163, 224, alpha))
            self.plot.addItem(a), self.plot.addItem(b)
            self.plot.addItem(pg.FillBetweenItem(a, b, brush=pg.mkBrush(79, 163, 224, alpha)))
        self.plot.plot(fx, result.mean, pen=pg.mkPen("#4fa3e0", width=2, style=Qt.DashLine), name="forecast")
        self.plot.enableAutoRange()

    def describe(self, x, y):
        if self.result is None or not len(self.result.days):
            return ""
        fx = epoch_seconds(self.result.days)
        if x >= fx[0] - 43200:
            i = int(np.clip(np.searchsorted(fx - 43200, x) - 1, 0, len(fx) - 1))
            r = self.result
            return (f"{r.days[i]}: forecast {r.mean[i]:.1f} (80% {r.lower80[i]:.1f}-{r.upper80[i]:.1f}, "
                    f"95% {r.lower95[i]:.1f}-{r.upper95[i]:.1f})")
        days, census = self.history
        if len(days):
            i = int(np.clip(np.searchsorted(epoch_seconds(days), x), 0, len(days) - 1))
            return f"{days[i]}: census {int(census[i])}"
        return ""

    def table(self):
        r = self.result
        if r is None:
            return [], []
        return (["day", "mean", "lower80", "upper80", "lower95", "upper95"],
                [[str(d), *(round(float(v), 2) for v in vals)] for d, *vals in
                 zip(r.days, r.mean, r.lower80, r.upper80, r.lower95, r.upper95)])


def legend_brush():
    """A half-opaque panel behind legend text, so labels stay readable over the lines."""
    from medstation.gui.theme import plot_colours

    colour = pg.mkColor(plot_colours()["background"])
    colour.setAlpha(210)
    return pg.mkBrush(colour)
