"""The Resources pane's tabs, each a composite of charts and tables with an ``export_tables()`` for CSV."""
from __future__ import annotations

import numpy as np
from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import QHBoxLayout, QLabel, QSpinBox, QSplitter, QVBoxLayout, QWidget

from medstation.gui.panes.resources.charts import ArrivalsHeatmap, CensusChart, FlowChart, ForecastChart, LosBoxes
from medstation.gui.panes.resources.drivers import Beeswarm, DriverBars, Waterfall
from medstation.gui.panes.resources.models import (BACKTEST, CLUSTERS, PATIENTS, QUARANTINE, patient_columns, percent,
                                                    rows_model)
from medstation.gui.table_model import table_view


def _table(model):
    return table_view(model, fit_contents=True, alternating=False)


def _note(text: str = "") -> QLabel:
    label = QLabel(text)
    label.setWordWrap(True)
    label.setTextInteractionFlags(Qt.TextSelectableByMouse)
    return label


class CensusTab(QWidget):
    def __init__(self, parent=None):
        super().__init__(parent)
        self.census, self.flow = CensusChart(), FlowChart()
        split = QSplitter(Qt.Vertical)
        split.addWidget(self.census)
        split.addWidget(self.flow)
        split.setSizes([600, 350])
        QVBoxLayout(self).addWidget(split)

    def export_tables(self):
        return {"census": self.census.table(), "admissions-discharges": self.flow.table()}


class ArrivalsTab(QWidget):
    def __init__(self, parent=None):
        super().__init__(parent)
        self.heatmap = ArrivalsHeatmap()
        self.note = _note()
        layout = QVBoxLayout(self)
        layout.addWidget(self.heatmap, 1)
        layout.addWidget(self.note)

    def export_tables(self):
        return {"arrivals": self.heatmap.table()}


class LosTab(QWidget):
    def __init__(self, parent=None):
        super().__init__(parent)
        self.by_unit = LosBoxes("Length of stay by unit")
        self.by_type = LosBoxes("Length of stay by admission type")
        split = QSplitter(Qt.Horizontal)
        split.addWidget(self.by_unit)
        split.addWidget(self.by_type)
        QVBoxLayout(self).addWidget(split)

    def export_tables(self):
        return {"los-by-unit": self.by_unit.table(), "los-by-admission-type": self.by_type.table()}


class ForecastTab(QWidget):
    horizon_changed = Signal(int)

    def __init__(self, parent=None):
        super().__init__(parent)
        self.chart = ForecastChart()
        self.horizon = QSpinBox()
        self.horizon.setRange(7, 14)
        self.horizon.setValue(14)
        self.horizon.setSuffix(" days")
        self.horizon.editingFinished.connect(lambda: self.horizon_changed.emit(self.horizon.value()))
        self.backtest = _note("The forecast runs in the background after the data load.")
        self.table_model = rows_model(BACKTEST, self)
        self.table = _table(self.table_model)
        top = QHBoxLayout()
        top.addWidget(QLabel("Horizon"))
        top.addWidget(self.horizon)
        top.addWidget(self.backtest, 1)
        layout = QVBoxLayout(self)
        layout.addLayout(top)
        split = QSplitter(Qt.Vertical)
        split.addWidget(self.chart)
        split.addWidget(self.table)
        split.setSizes([600, 250])
        layout.addWidget(split, 1)

    def show_result(self, result, days, census) -> None:
        self.chart.show_forecast(days, census, result)
        if result.mape_model is None:
            self.backtest.setText(f"{result.unit}: too little history for a backtest; treat the forecast with care.")
            return
        better = result.mape_model < result.mape_naive
        self.backtest.setText(
            f"<b>{result.unit}</b> backtest on the loaded history: {result.model} MAPE "
            f"<b>{result.mape_model:.1f}%</b> vs seasonal naive (same weekday last week) "
            f"<b>{result.mape_naive:.1f}%</b>; the 80% interval held {result.coverage80 * 100:.0f}% of days. "
            + ("The model beats the baseline." if better else "<b>The model does not beat the baseline here: "
                                                               "prefer last week's pattern.</b>"))

    def show_table(self, units) -> None:
        self.table_model.set_rows([
            (u.unit, u.model, _r(u.mape_model), _r(u.mape_naive), percent(u.coverage80),
             round(float(u.mean[0]), 1), f"{u.lower80[0]:.1f}-{u.upper80[0]:.1f}") for u in units])

    def export_tables(self):
        return {"forecast": self.chart.table(), "backtest": self.table_model.table()}


def _r(value):
    return None if value is None else round(value, 1)


class DriversTab(QWidget):
    patient_chosen = Signal(int)

    def __init__(self, parent=None):
        super().__init__(parent)
        self.header = _note("The length-of-stay model is trained on the loaded data in the background.")
        self.bars, self.swarm, self.waterfall = DriverBars(), Beeswarm(), Waterfall()
        self.patients = rows_model(PATIENTS, self)
        self.patient_view = _table(self.patients)
        self.patient_view.clicked.connect(lambda index: self.patient_chosen.emit(index.row()))
        self.clusters = rows_model(CLUSTERS, self)
        self.cluster_view = _table(self.clusters)
        top = QSplitter(Qt.Horizontal)
        top.addWidget(self.bars)
        top.addWidget(self.swarm)
        bottom = QSplitter(Qt.Horizontal)
        bottom.addWidget(self.patient_view)
        bottom.addWidget(self.waterfall)
        split = QSplitter(Qt.Vertical)
        for w in (top, bottom, self.cluster_view):
            split.addWidget(w)
        split.setSizes([380, 330, 160])
        layout = QVBoxLayout(self)
        layout.addWidget(self.header)
        layout.addWidget(split, 1)

    def show_insights(self, ins, unit: str) -> None:
        m = ins.model
        data = m.data
        colour = "" if m.beats_baseline else " style='color:#e0a040'"
        self.header.setText(
            f"<b>Trained on the loaded data</b> ({len(data.y) - len(m.test_index):,} encounters; "
            f"{len(m.test_index):,} held out): held-out MAE <b>{m.mae:.2f} {unit}</b>, RMSE {m.rmse:.2f}. "
            f"<b{colour}>{m.verdict()}</b> "
            "Gradient-boosted trees, explained with SHAP (TreeExplainer). Not for clinical use.")
        self.bars.show_drivers([(data.label(f), v) for f, v in ins.drivers], unit)
        order = [data.features.index(f) for f, _ in ins.drivers]
        self.swarm.show_swarm([data.label(f) for f in data.features], order, ins.shap_values, data.X[ins.sample],
                              unit)
        frame = data.frame.iloc[ins.sample]
        estimates = [m.estimate(int(i))[0] for i in ins.sample]
        self.patients.set_rows([(e, u, t, None if np.isnan(a) else a, round(float(y), 2), round(float(p), 2))
                                for e, u, t, a, y, p in zip(frame.encounter_id, frame.first_unit,
                                                            frame.admission_type, frame.age.astype(float),
                                                            data.y[ins.sample], estimates)],
                               patient_columns(m.estimate(0)[1] if len(data.y) else "model"))
        self.clusters.set_rows([(i + 1, c.size, percent(c.share), round(c.mean_los, 2), round(c.bed_days, 1),
                                 percent(c.bed_day_share), c.typical_unit, c.typical_admission,
                                 None if c.mean_age is None else round(c.mean_age, 1))
                                for i, c in enumerate(ins.clusters)])

    def export_tables(self):
        return {"drivers": self.bars.table(), "patient-waterfall": self.waterfall.table(),
                "clusters": self.clusters.table(), "patients": self.patients.table()}


class QuarantineTab(QWidget):
    def __init__(self, parent=None):
        super().__init__(parent)
        self.summary = _note()
        self.model = rows_model(QUARANTINE, self)
        self.view = _table(self.model)
        layout = QVBoxLayout(self)
        layout.addWidget(self.summary)
        layout.addWidget(self.view, 1)

    def export_tables(self):
        return {"quarantine": self.model.table()}
