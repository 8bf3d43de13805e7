"""The Resources pane in the real main window: import with the mapping dialog, every chart, forecast, drivers,
filters, quarantine, export."""
from __future__ import annotations

import csv

import numpy as np
import pytest

from medstation.core import audit
from medstation.core.resources import generate, mapping
from medstation.gui import ask
from medstation.gui.panes.resources import mapping_dialog

pytestmark = pytest.mark.gui


@pytest.fixture(scope="module")
def small_hospital(tmp_path_factory):
    path = tmp_path_factory.mktemp("pane") / "ward-export.csv"
    generate.write(generate.generate(days=75, seed=21), path)
    return path


def _open(main_window, qtbot, path, monkeypatch, answers, models=True):
    def fake_ask(parent, name, header, guess):
        answers.append((name, guess))
        return guess

    monkeypatch.setattr(mapping_dialog, "ask_mapping", fake_ask)
    pane = main_window.pane("resources")
    main_window.open_paths([str(path)])
    qtbot.waitUntil(lambda: pane.summary is not None, timeout=60000)
    if models:
        qtbot.waitUntil(lambda: pane.insights is not None and bool(pane.forecasts), timeout=120000)
    else:
        qtbot.waitUntil(lambda: not main_window.ctx.jobs.active(), timeout=120000)
    return pane


def test_generated_hospital_opens_with_every_chart(main_window, qtbot, small_hospital, monkeypatch, tmp_path,
                                                   qtmodeltester):
    answers = []
    pane = _open(main_window, qtbot, small_hospital, monkeypatch, answers)
    assert main_window.tabs.currentIndex() == 3 and pane.stack.currentIndex() == 1
    assert answers[0][0] == "ward-export.csv" and answers[0][1].columns["capacity"] == "unit_capacity"
    s = pane.summary
    census = pane.census_tab.census
    assert list(census.lines)[0] == "All units" and census.lines["All units"][1] == 172.0
    assert np.array_equal(census.lines["All units"][0], s.census.sum(0))
    assert pane.arrivals_tab.heatmap.grid.sum() > 1000
    assert [g.group for g in pane.los_tab.by_unit.groups][:2] == ["Cardiology", "ICU"]
    assert "Occupancy" in pane.snapshot.labels["occupancy"].text()
    assert set(pane.forecasts) >= {"All units", "ICU"} and "MAPE" in pane.forecast_tab.backtest.text()
    assert pane.forecast_tab.table_model.rowCount() == len(pane.forecasts)
    assert "Trained on the loaded data" in pane.drivers_tab.header.text()
    assert len(pane.drivers_tab.bars.rows) == 8 and pane.drivers_tab.waterfall.steps
    w = pane.drivers_tab.waterfall
    assert w.base + sum(c for _, _, c in w.steps) == pytest.approx(
        pane.insights.model.predict(pane.insights.model.data.X[pane.insights.sample[:1]])[0])
    for model in (pane.drivers_tab.patients, pane.drivers_tab.clusters, pane.forecast_tab.table_model,
                  pane.quarantine_tab.model):
        qtmodeltester.check(model)
    actions = [e.action for e in audit.entries()]
    assert "open" in actions and actions.count("infer") >= 2

    # filters: one unit and a date window redraw every chart for that unit
    pane.unit.setCurrentText("ICU")
    pane.start.setDate(pane.start.date().addDays(14))
    icu = s.units.index("ICU")
    assert list(census.lines) == ["ICU"] and census.lines["ICU"][1] == 12.0
    assert np.array_equal(census.lines["ICU"][0], s.census[icu, 14:])
    assert [g.group for g in pane.los_tab.by_unit.groups] == ["ICU"]
    assert pane.snapshot.labels["in"].text().endswith("/ 12")

    # exports: the current tab as PNG and its numbers as CSV
    pane.tabs.setCurrentIndex(0)
    png, out = tmp_path / "census.png", tmp_path / "census.csv"
    monkeypatch.setattr(ask, "save_file", lambda *a, **k: str(png))
    pane.export_png()
    assert png.read_bytes()[:4] == b"\x89PNG"
    monkeypatch.setattr(ask, "save_file", lambda *a, **k: str(out))
    pane.export_csv()
    rows = list(csv.reader(out.open()))
    assert rows[0] == ["day", "ICU census", "ICU capacity"] and len(rows) == len(s.days) - 14 + 1
    assert int(rows[1][1]) == s.census[icu, 14]
    assert (tmp_path / "census-admissions-discharges.csv").exists()
    assert [e.action for e in audit.entries()].count("export") == 2


def test_remembered_mapping_skips_the_dialog_and_bad_rows_are_listed(main_window, qtbot, monkeypatch, tmp_path):
    bad = tmp_path / "adt.csv"
    bad.write_text("admit,discharge,ward\n2024-01-01 10:00,2024-01-03 09:00,A\nnope,2024-01-03 09:00,A\n"
                   "2024-01-02 10:00,2024-01-01 09:00,B\n" +
                   "".join(f"2024-01-{d:02d} 10:00,2024-01-{d + 2:02d} 09:00,{'AB'[d % 2]}\n" for d in range(3, 25)))
    answers = []
    pane = _open(main_window, qtbot, bad, monkeypatch, answers, models=False)
    assert len(answers) == 1
    assert "too few to train a length-of-stay model" in pane.banner.text() and not pane.banner.isHidden()
    assert pane.quarantine_tab.model.rows == [(3, "admit", "'nope' is not a date/time"),
                                              (4, "discharge", "discharge is before admission")]
    assert pane.tabs.tabText(5) == "Quarantine (2)"
    stored = main_window.ctx.settings.pane("resources")["mappings"]
    assert list(stored.values())[0]["columns"]["unit"] == "ward"
    pane.summary = None
    main_window.open_paths([str(bad)])
    qtbot.waitUntil(lambda: pane.summary is not None, timeout=60000)
    assert len(answers) == 1  # remembered: no second dialog


def test_cancelled_mapping_dialog_imports_nothing(main_window, qtbot, monkeypatch, tmp_path):
    path = tmp_path / "visits.csv"
    path.write_text("start,end,clinic\n2024-01-01 10:00,2024-01-01 11:00,A\n")
    monkeypatch.setattr(mapping_dialog, "ask_mapping", lambda *a: None)
    messages = []
    pane = main_window.pane("resources")
    monkeypatch.setattr(pane.ctx, "notify", messages.append)
    main_window.open_paths([str(path)])
    assert pane.summary is None and pane.stack.currentIndex() == 0
    assert messages == ["Import of visits.csv cancelled; nothing was changed"]


def test_mapping_dialog_requires_admit_and_unit(qtbot):
    dialog = mapping_dialog.ColumnMappingDialog("x.csv", ["when", "where", "age"], mapping.Mapping({}))
    qtbot.addWidget(dialog)
    dialog._accept()
    assert "Admit / arrival time" in dialog.problem.text() and dialog.result() == 0
    dialog.combos["admit_time"].setCurrentText("when")
    dialog.combos["unit"].setCurrentText("where")
    dialog.length_unit.setCurrentText("hours")
    chosen = dialog.mapping()
    assert chosen.columns == {"admit_time": "when", "unit": "where"} and chosen.length_unit == "hours"


def test_mapping_dialog_shows_what_the_guess_left_out_and_accepts_a_length_only_table(qtbot):
    guess = mapping.Mapping({"length": "los"}, day_numbers=True,
                            notes=["column 'admit' cannot be the admit / arrival time: not used"])
    dialog = mapping_dialog.ColumnMappingDialog("azpro.csv", ["los", "admit", "sex"], guess)
    qtbot.addWidget(dialog)
    assert dialog.problem.text() == "column 'admit' cannot be the admit / arrival time: not used"
    assert dialog.day_numbers.isChecked() and dialog.mapping().day_numbers
    dialog._accept()
    assert dialog.result() == 1 and dialog.mapping().los_only  # no unit needed without dates
    assert mapping.Mapping.from_dict(dialog.mapping().to_dict()) == dialog.mapping()
