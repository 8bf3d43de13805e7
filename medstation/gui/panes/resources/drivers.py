"""What drives length of stay: overall SHAP importance (bar), every held-out patient's SHAP values (beeswarm),
and one patient's waterfall from the average stay to their predicted stay."""
from __future__ import annotations

import numpy as np
import pyqtgraph as pg

from medstation.gui.panes.resources.charts import ChartPanel


class DriverBars(ChartPanel):
    """Mean |SHAP| per feature, largest at the top."""

    def __init__(self, parent=None):
        super().__init__("Overall drivers: mean |SHAP|", parent=parent)
        self.rows: list[tuple[str, float]] = []
        self.unit = "days"

    def show_drivers(self, rows: list[tuple[str, float]], unit: str) -> None:
        self.plot.clear()
        self.rows, self.unit = rows, unit
        y = np.arange(len(rows))[::-1].astype(float)
        values = np.array([v for _, v in rows])
        self.plot.addItem(pg.BarGraphItem(x0=0, y=y, height=0.6, width=values, brush="#4fa3e0"))
        self.plot.getAxis("left").setTicks([[(yy, name) for yy, (name, _) in zip(y, rows)]])
        self.plot.setLabel("bottom", f"mean |SHAP| ({unit})")
        self.plot.enableAutoRange()

    def describe(self, x, y):
        i = len(self.rows) - 1 - int(round(y))
        if 0 <= i < len(self.rows):
            return f"{self.rows[i][0]}: changes predicted stay by {self.rows[i][1]:.2f} {self.unit} on average"
        return ""

    def table(self):
        return ["feature", f"mean_abs_shap_{self.unit}"], [list(r) for r in self.rows]


class Beeswarm(ChartPanel):
    """Each dot a held-out patient: x its SHAP value for the feature on that row, colour its feature value
    (blue low, orange high; categories by code)."""

    def __init__(self, parent=None):
        super().__init__("Per-patient SHAP values (beeswarm)", parent=parent)
        self.labels: list[str] = []
        self.values = np.zeros((0, 0))
        self.unit = "days"

    def show_swarm(self, labels: list[str], order: list[int], shap_values: np.ndarray, features: np.ndarray,
                   unit: str, seed: int = 0) -> None:
        self.plot.clear()
        self.labels, self.unit = [labels[i] for i in order], unit
        self.values = shap_values[:, order]
        rng = np.random.default_rng(seed)
        spots_x, spots_y, brushes = [], [], []
        for row, col in enumerate(order):
            y = len(order) - 1 - row
            v = features[:, col]
            finite = np.isfinite(v)
            lo, hi = (np.nanmin(v), np.nanmax(v)) if finite.any() else (0.0, 1.0)
            t = np.where(finite, (v - lo) / (hi - lo if hi > lo else 1), 0.5)
            spots_x.append(shap_values[:, col])
            spots_y.append(y + rng.uniform(-0.3, 0.3, len(v)))
            brushes += [pg.mkBrush(int(79 + 145 * a), int(163 - 3 * a * 20), int(224 - 160 * a), 170) for a in t]
        self.plot.addItem(pg.ScatterPlotItem(x=np.concatenate(spots_x), y=np.concatenate(spots_y), size=4,
                                             pen=None, brush=brushes))
        self.plot.addLine(x=0, pen=pg.mkPen("#9aa5ad"))
        n = len(order)
        self.plot.getAxis("left").setTicks([[(n - 1 - r, self.labels[r]) for r in range(n)]])
        self.plot.setLabel("bottom", f"SHAP value ({unit}); colour: feature value low (blue) to high (orange)")
        self.plot.enableAutoRange()

    def describe(self, x, y):
        r = len(self.labels) - 1 - int(round(y))
        if 0 <= r < len(self.labels):
            col = self.values[:, r]
            return (f"{self.labels[r]}: SHAP {x:+.2f} {self.unit} here; patients range {col.min():+.2f} to "
                    f"{col.max():+.2f}")
        return ""

    def table(self):
        return self.labels, [list(map(float, row)) for row in self.values]


class Waterfall(ChartPanel):
    """One patient: from the average predicted stay, each feature's push up or down, to their prediction."""

    def __init__(self, parent=None):
        super().__init__("Patient drivers (waterfall)", parent=parent)
        self.steps: list[tuple[str, object, float]] = []
        self.base = 0.0
        self.unit = "days"

    def show_patient(self, title: str, base: float, steps: list[tuple[str, object, float]], unit: str) -> None:
        self.plot.clear()
        self.steps, self.base, self.unit = steps, base, unit
        self.plot.setTitle(title)
        start = base
        n = len(steps)
        for i, (_name, _value, contribution) in enumerate(steps):
            y = n - i
            colour = "#d86a6a" if contribution > 0 else "#4fa3e0"
            self.plot.addItem(pg.BarGraphItem(x0=min(start, start + contribution), y=y, height=0.6,
                                              width=abs(contribution), brush=colour))
            start += contribution
        self.plot.addLine(x=base, pen=pg.mkPen("#9aa5ad", style=pg.QtCore.Qt.DashLine))
        self.plot.addLine(x=start, pen=pg.mkPen("#e3e6e8"))
        ticks = [(n - i, f"{name} = {_short(value)}") for i, (name, value, _c) in enumerate(steps)]
        self.plot.getAxis("left").setTicks([ticks])
        self.plot.setLabel("bottom", f"predicted stay ({unit}): average {base:.1f} -> this patient {start:.1f}")
        self.plot.enableAutoRange()

    def describe(self, x, y):
        i = len(self.steps) - int(round(y))
        if 0 <= i < len(self.steps):
            name, value, c = self.steps[i]
            return f"{name} = {_short(value)}: {c:+.2f} {self.unit}"
        return ""

    def table(self):
        return (["feature", "value", f"contribution_{self.unit}"],
                [["(average prediction)", "", self.base]] + [[n, _short(v), c] for n, v, c in self.steps])


def _short(value) -> str:
    if isinstance(value, float):
        return f"{value:g}" if np.isfinite(value) else "missing"
    return str(value)[:18]
