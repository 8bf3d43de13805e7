"""The Resources pane on real Medicare length-of-stay tables without dates: length-of-stay-only mode, the model
against the unit x admission-type median, and one banner per file (replaced, never stacked)."""
from __future__ import annotations

import pytest

from medstation.core.resources import mapping
from medstation.gui.panes.resources import mapping_dialog
from tests.conftest import require_data

pytestmark = pytest.mark.gui


def _open(main_window, qtbot, path, monkeypatch, choose=None):
    monkeypatch.setattr(mapping_dialog, "ask_mapping", lambda parent, name, header, guess: choose or guess)
    pane = main_window.pane("resources")
    pane.insights = None
    main_window.open_paths([str(path)])
    qtbot.waitUntil(lambda: not main_window.ctx.jobs.active() and (pane.insights is not None or
                                                                    not pane.banner.isHidden()), timeout=120000)
    return pane


def test_medpar_opens_without_census_and_shows_the_median_estimate(main_window, qtbot, monkeypatch):
    tables = require_data("los_tables")
    pane = _open(main_window, qtbot, tables / "medpar.csv", monkeypatch)
    assert pane.dataset.los_only and "length of stay only" in pane.source.text()
    hidden = [pane.tabs.tabText(i) for i in range(pane.tabs.count()) if not pane.tabs.isTabVisible(i)]
    assert hidden == ["Census", "Arrivals", "Forecast"] and pane.snapshot.isHidden()
    assert [(g.group, g.n) for g in pane.los_tab.by_type.groups] == [("1", 1134), ("2", 265), ("3", 96)]
    model = pane.insights.model
    assert not model.beats_baseline  # 5.41 vs 5.47 days: not 2% better than the unit x admission-type median
    assert pane.banner.text() == model.verdict() and not pane.banner.isHidden()
    patients = pane.drivers_tab.patients
    assert patients.table()[0][-1] == "estimated LOS (unit x admission-type median)"
    first = int(pane.insights.sample[0])
    assert patients.rows[0][-1] == pytest.approx(round(model.baseline_estimate(first), 2))
    assert "provnum" in [name for name, _v in pane.drivers_tab.bars.rows]

    # a mapping the data refute: the import is refused in one sentence, in the same banner (not a second one)
    refused = mapping.Mapping({"admit_time": "admit", "unit": "hospital", "length": "los"})
    pane = _open(main_window, qtbot, tables / "azpro.csv", monkeypatch, choose=refused)
    assert pane.banner.text() == (
        "Importing azpro.csv failed: azpro.csv: column 'admit' cannot be the admit / arrival time: only 0 of 3,589 "
        "sampled values are dates/times; it holds 0, 1 ... (numbers, such as a flag or a length of stay). Nothing "
        "was imported; map another column (or none, for a table without dates).")
    assert "window shape" not in pane.banner.text() and pane.dataset.name == "medpar.csv"

    # the next file replaces the banner: azpro's model beats both medians, so nothing is left to say
    monkeypatch.setattr(main_window.ctx.settings, "pane", lambda key: {})
    pane = _open(main_window, qtbot, tables / "azpro.csv", monkeypatch)
    assert pane.dataset.name == "azpro.csv", pane.banner.text()
    assert pane.insights.model.beats_baseline
    assert pane.banner.isHidden() and pane.notes == {}
    assert pane.drivers_tab.patients.table()[0][-1] == "estimated LOS (model)"
