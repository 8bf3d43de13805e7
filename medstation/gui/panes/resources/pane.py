"""The Resources pane: open encounter data, see census against capacity, arrivals, length of stay, a snapshot of
now, a census forecast with its backtest, and what drives length of stay (a model trained on the loaded data).

A table of lengths of stay without dates opens in length-of-stay-only mode (distributions, LOS model and drivers;
no census, snapshot or forecast). What the user must know about the file on screen - an error, a doubt about its
mapping, a model no better than the median - is one banner above the tabs, replaced when another file opens.
"""
from __future__ import annotations

from datetime import date
from pathlib import Path

from PySide6.QtCore import QDate
from PySide6.QtWidgets import (QComboBox, QDateEdit, QHBoxLayout, QLabel, QPushButton, QStackedWidget, QTabWidget,
                               QVBoxLayout, QWidget)

from medstation.core.errors import MedStationError
from medstation.core.resources import analytics, mapping, store
from medstation.gui import ask
from medstation.gui.context import AppContext
from medstation.gui.panes.base import Pane
from medstation.gui.panes.empty import EmptyState
from medstation.gui.panes.resources import mapping_dialog
from medstation.gui.panes.resources.views import (ArrivalsTab, CensusTab, DriversTab, ForecastTab, LosTab,
                                                  QuarantineTab)
from medstation.services import resources as service

ALL = "All units"


class SnapshotStrip(QWidget):
    """Now, at the dataset's last arrival: occupancy, free beds, patients in, expected discharges in 24 h."""

    def __init__(self, parent=None):
        super().__init__(parent)
        layout = QHBoxLayout(self)
        layout.setContentsMargins(4, 2, 4, 2)
        self.labels = {k: QLabel("-") for k in ("as_of", "occupancy", "free", "in", "out24", "capacity")}
        for label in self.labels.values():
            layout.addWidget(label)
        layout.addStretch(1)

    def show_snapshot(self, snap: analytics.Snapshot, capacity_note: str) -> None:
        shown = self.labels
        shown["as_of"].setText(f"As of <b>{snap.as_of:%Y-%m-%d %H:%M}</b>")
        colour = "#d86a6a" if snap.occupancy >= 0.95 else "#e0a040" if snap.occupancy >= 0.85 else "#6cc070"
        shown["occupancy"].setText(f"Occupancy <b style='color:{colour}'>{snap.occupancy * 100:.0f}%</b>")
        shown["free"].setText(f"Free beds <b>{snap.free_beds}</b>")
        shown["in"].setText(f"In now <b>{snap.census}</b> / {snap.capacity:.0f}")
        shown["out24"].setText(f"Expected discharges 24 h <b>{snap.expected_discharges_24h:.1f}</b>")
        shown["capacity"].setText(capacity_note)


class ResourcesPane(Pane):
    key = "resources"
    title = "Resources"
    open_hint = ("Open encounter / ADT data (CSV, Parquet or a FHIR Encounter bundle) to see census, forecasts "
                 "and length of stay - or open the documented sample hospital.")

    def __init__(self, ctx: AppContext, parent=None):
        super().__init__(ctx, parent)
        self.dataset: store.Dataset | None = None
        self.summary: analytics.Summary | None = None
        self.forecasts: dict[str, object] = {}
        self.insights = None
        self.report: store.ImportReport | None = None
        self._pending: set[str] = set()  # units whose forecast was asked for on demand
        self.notes: dict[str, str] = {}  # banner lines about the file on screen, by what raised them
        self._build()

    # layout ---------------------------------------------------------------------------------------------------
    def _build(self) -> None:
        self.empty = EmptyState(self.title, self.open_hint, "Open encounters...")
        self.empty.open_requested.connect(self.choose_files)
        sample = QPushButton("Open the sample hospital")
        sample.clicked.connect(self.open_sample)
        self.empty.layout().insertWidget(4, sample)
        self.tabs = QTabWidget()
        self.census_tab, self.arrivals_tab, self.los_tab = CensusTab(), ArrivalsTab(), LosTab()
        self.forecast_tab, self.drivers_tab, self.quarantine_tab = ForecastTab(), DriversTab(), QuarantineTab()
        for tab, name in ((self.census_tab, "Census"), (self.arrivals_tab, "Arrivals"),
                          (self.los_tab, "Length of stay"), (self.forecast_tab, "Forecast"),
                          (self.drivers_tab, "LOS drivers"), (self.quarantine_tab, "Quarantine")):
            self.tabs.addTab(tab, name)
        self.forecast_tab.horizon_changed.connect(lambda _h: self.start_forecast())
        self.drivers_tab.patient_chosen.connect(self.show_patient)
        self.snapshot = SnapshotStrip()
        dashboard = QWidget()
        layout = QVBoxLayout(dashboard)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addLayout(self._toolbar())
        layout.addWidget(self.snapshot)
        layout.addWidget(self.tabs, 1)
        self.stack = QStackedWidget()
        self.stack.addWidget(self.empty)
        self.stack.addWidget(dashboard)
        self.banner = QLabel()
        self.banner.setWordWrap(True)
        self.banner.setStyleSheet("background: #6b5418; color: #ffffff; padding: 6px;")
        self.banner.setVisible(False)
        outer = QVBoxLayout(self)
        outer.addWidget(self.banner)
        outer.addWidget(self.stack)

    # the banner -----------------------------------------------------------------------------------------------
    def say(self, key: str, text: str) -> None:
        """Show (or, with empty text, drop) the banner line ``key``; lines of an earlier file never linger."""
        if text:
            self.notes[key] = text
        else:
            self.notes.pop(key, None)
        self.banner.setText("\n".join(self.notes.values()))
        self.banner.setVisible(bool(self.notes))

    def _failed(self, key: str):
        return lambda text: self.say(key, text)

    def _toolbar(self) -> QHBoxLayout:
        bar = QHBoxLayout()
        self.source = QLabel("")
        self.unit = QComboBox()
        self.unit.setMinimumContentsLength(16)
        self.start, self.end = QDateEdit(), QDateEdit()
        for edit in (self.start, self.end):
            edit.setCalendarPopup(True)
            edit.setDisplayFormat("yyyy-MM-dd")
            edit.dateChanged.connect(self.redraw)
        self.unit.currentTextChanged.connect(self.redraw)
        buttons = [("Open...", self.choose_files), ("Columns...", self.remap), ("Export PNG...", self.export_png),
                   ("Export CSV...", self.export_csv)]
        bar.addWidget(self.source, 1)
        self.date_labels = []
        for label, widget in (("Unit", self.unit), ("From", self.start), ("To", self.end)):
            title = QLabel(label)
            bar.addWidget(title)
            bar.addWidget(widget)
            if widget is not self.unit:
                self.date_labels.append(title)
        for text, slot in buttons:
            button = QPushButton(text)
            button.clicked.connect(slot)
            bar.addWidget(button)
        return bar

    @classmethod
    def shortcuts(cls) -> list[tuple[str, str]]:
        return [("Mouse wheel / drag", "zoom and pan a chart"), ("Right-click a chart", "view all, export")]

    # opening --------------------------------------------------------------------------------------------------
    def choose_files(self) -> None:
        paths = ask.open_files(self, "Open encounters", "Encounters (*.csv *.tsv *.parquet *.json);;All files (*)")
        if paths:
            self.open_paths([Path(p) for p in paths])

    def open_sample(self) -> None:
        self.submit("import", "Sample hospital", service.sample_hospital,
                    on_result=lambda p: self._import(Path(p), self._guess(p)), on_error=self._failed("import"))

    def open_paths(self, paths: list[Path]) -> None:
        super().open_paths(paths)
        for path in paths:
            path = Path(path)
            self.empty.add_source(path)
            chosen = self._mapping_for(path)
            if chosen is None:
                self.ctx.notify(f"Import of {path.name} cancelled; nothing was changed")
                continue
            self._import(path, chosen)

    def _guess(self, path: Path) -> mapping.Mapping:
        return service.mapping_for(Path(path))

    def _mapping_for(self, path: Path, force_dialog: bool = False) -> mapping.Mapping | None:
        if path.suffix.lower() == ".json":
            return self._guess(path)
        try:
            header = store.read_header(path)
        except Exception as exc:  # a file DuckDB cannot read: say so, keep what is shown
            text = exc.sentence() if isinstance(exc, MedStationError) else f"{path.name} could not be read."
            self.say("import", f"{text.rstrip('.')}. The data already shown is kept.")
            return None
        sig = mapping.signature(header)
        remembered = self.ctx.settings.pane(self.key).get("mappings", {}).get(sig)
        if remembered and not force_dialog:
            return mapping.Mapping.from_dict(remembered)
        guess = mapping.Mapping.from_dict(remembered) if remembered else self._guess(path)
        chosen = mapping_dialog.ask_mapping(self, path.name, header, guess)
        if chosen is not None:
            prefs = self.ctx.settings.pane(self.key)
            prefs.setdefault("mappings", {})[sig] = chosen.to_dict()
            self.ctx.settings.set_pane(self.key, prefs)
        return chosen

    def remap(self) -> None:
        if self.dataset is None:
            return
        path = Path(self.dataset.meta["source"])
        chosen = self._mapping_for(path, force_dialog=True)
        if chosen is not None:
            self._import(path, chosen)

    def _import(self, path: Path, chosen: mapping.Mapping) -> None:
        self.notes = {}  # the banner speaks of the file being opened now, never of earlier ones
        self.say("import", "")
        self.submit("import", f"Importing {path.name}", service.import_dataset, path, chosen,
                    on_result=self._loaded, on_error=self._failed("import"), kept="the data already shown is kept")

    def _loaded(self, result) -> None:
        report, dataset, summary = result
        if self.dataset is not None:
            self.dataset.close()
        self.report, self.dataset, self.summary = report, dataset, summary
        self.forecasts, self.insights, self._pending = {}, None, set()
        self.notes = {}
        self.say("import", " ".join(report.warnings))
        self.ctx.notify(report.summary())
        los_only = dataset.los_only
        self.source.setText(f"<b>{dataset.name}</b>: {report.loaded:,} stays" +
                            (f", {report.quarantined:,} quarantined" if report.quarantined else "") +
                            ("; length of stay only (no dates: no census, occupancy or forecast)" if los_only
                             else ""))
        for tab in (self.census_tab, self.arrivals_tab, self.forecast_tab):
            self.tabs.setTabVisible(self.tabs.indexOf(tab), not los_only)
        for widget in (self.snapshot, self.start, self.end, *self.date_labels):
            widget.setVisible(not los_only)
        if los_only and self.tabs.currentWidget() in (self.census_tab, self.arrivals_tab, self.forecast_tab):
            self.tabs.setCurrentWidget(self.los_tab)
        self._fill_filters()
        self._show_quarantine()
        self.stack.setCurrentIndex(1)
        self.redraw()
        self.start_forecast()
        self.start_los()

    def _fill_filters(self) -> None:
        s = self.summary
        for w in (self.unit, self.start, self.end):
            w.blockSignals(True)
        self.unit.clear()
        self.unit.addItems([ALL, *s.units])
        if len(s.days):
            first, last = (QDate.fromString(str(d), "yyyy-MM-dd") for d in (s.days[0], s.days[-1]))
            for edit in (self.start, self.end):
                edit.setDateRange(first, last)
            self.start.setDate(first)
            self.end.setDate(last)
        for w in (self.unit, self.start, self.end):
            w.blockSignals(False)

    def _show_quarantine(self) -> None:
        rows = self.dataset.quarantine(limit=10_000)
        r = self.report
        label = self.dataset.meta.get("line_label", "line")
        self.quarantine_tab.summary.setText(
            f"{r.quarantined:,} of {r.rows:,} rows quarantined; each is listed by {label}, column and reason"
            + (" (first 10,000 shown)." if r.quarantined > 10_000 else ".") if r.quarantined else
            f"All {r.rows:,} rows passed validation.")
        self.quarantine_tab.model.set_rows(rows)
        self.tabs.setTabText(5, f"Quarantine ({r.quarantined:,})")

    # drawing --------------------------------------------------------------------------------------------------
    def filters(self) -> tuple[list[str] | None, date | None, date | None]:
        unit = self.unit.currentText()
        units = [unit] if unit and unit != ALL else None
        if self.dataset is not None and self.dataset.los_only:
            return units, None, None  # no dates to filter on
        return units, self.start.date().toPython(), self.end.date().toPython()

    def redraw(self) -> None:
        """Redraw every dashboard for the unit and date filters (no model work: that runs in the background)."""
        if self.summary is None:
            return
        units, start, end = self.filters()
        s, cur, scale = self.summary, self.dataset.cursor(), self.dataset.length_scale
        unit_label = self.dataset.length_unit
        self.los_tab.by_unit.show_groups(analytics.los_by(cur, "unit", units, start, end, scale), unit_label)
        self.los_tab.by_type.show_groups(analytics.los_by(cur, "admission_type", units, start, end, scale),
                                         unit_label)
        if self.dataset.los_only:
            return
        window = s.series(units, start, end)
        self.census_tab.census.show_census(window["days"], self._census_lines(units, start, end), s.census_kind)
        self.census_tab.flow.show_flow(window["days"], window["admissions"], window["discharges"])
        self.arrivals_tab.heatmap.show_grid(analytics.arrivals_heatmap(cur, units, start, end))
        self.arrivals_tab.note.setText("Arrivals are first stays of encounters (transfers excluded)" +
                                       ("; this file has no time of day, so every arrival falls at 00:00."
                                        if self.dataset.short_episodes else "."))
        snap = analytics.snapshot(cur, s, units)
        sources = {src for u, _c, src in self.dataset.units if not units or u in units}
        note = "capacity: peak census (no capacity column)" if "peak census" in sources else "capacity: from file"
        self.snapshot.show_snapshot(snap, note)
        self._show_forecast()

    def _census_lines(self, units, start, end) -> dict:
        s = self.summary
        if units:
            w = s.series(units, start, end)
            return {units[0]: (w["census"], w["capacity"])}
        lines = {ALL: (s.series(None, start, end)["census"], float(s.capacity.sum()))}
        win = s.window(start, end)
        for unit in service.busiest_units(s, 6):
            i = s.units.index(unit)
            lines[unit] = (s.census[i, win], float(s.capacity[i]))
        return lines

    # forecast -------------------------------------------------------------------------------------------------
    def start_forecast(self, units: list[str] | None = None) -> None:
        if self.summary is None or self.dataset.los_only:
            return
        horizon = self.forecast_tab.horizon.value()
        self.submit("forecast", "Census forecast", service.forecast, self.summary, self.dataset.name, horizon, 4,
                    units, subject=self.dataset.path, on_result=self._forecast_ready, on_error=self._failed("forecast"),
                    kept="the dashboards are unaffected")

    def _forecast_ready(self, fc) -> None:
        if units_new := {u.unit: u for u in fc.units}:
            if any(len(u.mean) != fc.horizon for u in self.forecasts.values()):
                self.forecasts = {}
            self.forecasts.update(units_new)
        self.forecast_tab.show_table(list(self.forecasts.values()))
        self._show_forecast()

    def _show_forecast(self) -> None:
        if self.summary is None or not self.forecasts:
            return
        units, _start, _end = self.filters()
        name = units[0] if units else ALL
        result = self.forecasts.get(name)
        if result is None:
            self.forecast_tab.backtest.setText(f"Forecasting {name}...")
            if name not in self._pending:
                self._pending.add(name)
                self.start_forecast([name])
            return
        s = self.summary
        history = s.series(units)["census"][-56:]
        self.forecast_tab.show_result(result, s.days[-56:], history)

    # length of stay -------------------------------------------------------------------------------------------
    def start_los(self) -> None:
        ds = self.dataset
        self.submit(
            "los", "Length-of-stay model", service.los_insights, ds.path, ds.length_unit, ds.length_scale,
            subject=ds.path, on_result=self._los_ready, on_error=self._failed("los"),
            kept="the dashboards and forecast are unaffected")

    def _los_ready(self, insights) -> None:
        self.insights = insights
        m = insights.model
        self.say("los", "" if m.beats_baseline else m.verdict())
        self.drivers_tab.show_insights(insights, self.dataset.length_unit)
        if len(insights.sample):
            self.drivers_tab.patient_view.selectRow(0)
            self.show_patient(0)

    def show_patient(self, row: int) -> None:
        ins = self.insights
        if ins is None or not 0 <= row < len(ins.sample):
            return
        index = int(ins.sample[row])
        m = ins.model
        steps = m.waterfall(index)
        title = f"Encounter {m.data.ids[index]}"
        if not m.beats_baseline:
            title += f": shown estimate {m.baseline_estimate(index):.1f} {m.unit} (unit x admission-type median)"
        self.drivers_tab.waterfall.show_patient(title, m.expected_value,
                                                [(m.data.label(f), v, c) for f, v, c in steps],
                                                self.dataset.length_unit)
        service.viewed(str(m.data.ids[index]), detail="length-of-stay drivers (waterfall)")

    # export ---------------------------------------------------------------------------------------------------
    def export_png(self) -> None:
        name = self.tabs.tabText(self.tabs.currentIndex()).split(" (")[0].lower().replace(" ", "-")
        path = ask.save_file(self, "Export chart as PNG", f"resources-{name}.png", "PNG images (*.png)")
        if not path:
            return
        try:
            service.export_png(path, png_bytes(self.tabs.currentWidget()), name)
        except OSError as exc:
            self.say("export", f"Export to {path} failed: {exc}. Nothing was changed.")
            return
        self.ctx.notify(f"Saved {path}")

    def export_csv(self) -> None:
        tab = self.tabs.currentWidget()
        name = self.tabs.tabText(self.tabs.currentIndex()).split(" (")[0].lower().replace(" ", "-")
        path = ask.save_file(self, "Export data as CSV", f"resources-{name}.csv", "CSV files (*.csv)")
        if not path:
            return
        try:
            written = service.export_tables(Path(path), tab.export_tables(), name)
        except OSError as exc:
            self.say("export", f"Export to {path} failed: {exc}. Nothing was changed.")
            return
        self.ctx.notify(f"Saved {', '.join(p.name for p in written)}")

    def shutdown(self) -> None:
        super().shutdown()


def png_bytes(widget) -> bytes:
    """The widget as it looks on screen, encoded as PNG."""
    from PySide6.QtCore import QBuffer, QByteArray, QIODevice

    data = QByteArray()
    buffer = QBuffer(data)
    buffer.open(QIODevice.WriteOnly)
    widget.grab().save(buffer, "PNG")
    buffer.close()
    return bytes(data.data())
