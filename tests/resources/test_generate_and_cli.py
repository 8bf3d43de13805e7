"""The sample hospital generator, the real covid_testing fixture, and the command line."""
from __future__ import annotations

import csv
import json

import numpy as np
import pandas as pd

from medstation import cli
from medstation.core import audit
from medstation.core.resources import analytics, generate, mapping, store
from medstation.services import resources as report_module
from tests.conftest import require_data

# covid_testing's collection day (a day number), and its two turnaround times in hours that add up to the episode
COVID_COLUMNS = {"admit_time": "pan_day", "length": "col_rec_tat", "length_2": "rec_ver_tat"}


def test_generator_is_seeded_and_shows_documented_patterns():
    a, b = generate.generate(days=60, seed=3), generate.generate(days=60, seed=3)
    pd.testing.assert_frame_equal(a, b)
    assert not a.equals(generate.generate(days=60, seed=4))
    first = a.sort_values("admit_time").drop_duplicates("encounter_id")
    elective = first[first.admission_type == "elective"].admit_time
    assert elective.dt.day_of_week.max() <= 5 and (elective.dt.day_of_week <= 4).mean() > 0.95
    assert elective.dt.hour.between(6, 15).all() and elective.dt.hour.between(7, 9).mean() > 0.6
    stepped = a[a.transfers == 1].groupby("encounter_id").unit.apply(set)
    assert len(stepped) > 20 and all("ICU" in units for units in stepped if len(units) == 2)
    assert (stepped.apply(len) == 2).mean() > 0.9  # the rest step down after the simulated period ends
    assert set(a.unit) == {u.name for u in generate.UNITS}
    assert (a[a.unit == "Maternity"].sex == "F").all() and a[a.unit == "Paediatrics"].age.max() <= 17
    done = a.discharge_time.notna()
    assert (a.discharge_time[done] > a.admit_time[done]).all() and (~done).sum() > 50


def test_real_covid_testing_fixture_imports_with_its_bad_rows_quarantined():
    path = require_data("covid_testing") / "covid_testing.csv"
    m = report_module.mapping_for(path, columns=COVID_COLUMNS)  # the general guess, plus its own columns named
    m.length_unit, m.day_numbers = "hours", True
    assert m.columns["unit"] == "clinic_name" and m.columns["admission_type"] == "patient_class"
    report = store.import_file(path, m)
    assert report.rows == 15524 and report.loaded + report.quarantined == 15524
    assert 0 < report.quarantined < 20
    ds = store.Dataset(store.dataset_path(path))
    with open(path, newline="") as handle:
        lines = {i: row for i, row in enumerate(csv.DictReader(handle), start=2)}
    for line, column, reason in ds.quarantine():
        row = lines[line]
        if "negative" in reason:
            assert float(row["col_rec_tat"]) + float(row["rec_ver_tat"]) < 0
        elif "age" in reason:
            assert not 0 <= float(row["age"]) <= 120
    units = dict((u, c) for u, c, _ in ds.units)
    assert "clinical lab" in units and "emergency dept" in units
    s = ds.summary()
    assert s.census_kind == "active during the day" and s.census.sum() > 0
    types = {g.group for g in analytics.los_by(ds.cursor(), "admission_type", scale=ds.length_scale)}
    assert {"inpatient", "emergency", "outpatient"} <= types
    from medstation.inference.resources import los

    data = los.load_encounters(ds.cursor(), ds.length_scale)
    assert len(data.y) == report.loaded  # every test is its own episode, lengths in hours
    assert 5 < float(np.median(data.y)) < 15
    ds.close()


def test_cli_generate_then_analyze_json_and_text(tmp_path, capsys):
    out = tmp_path / "h.csv"
    assert cli.main(["resources", "generate", "--out", str(out), "--days", "75", "--seed", "5"]) == 0
    assert "unit stays" in capsys.readouterr().out
    assert cli.main(["resources", "analyze", str(out), "--json", "--horizon", "7", "--folds", "1"]) == 0
    result = json.loads(capsys.readouterr().out)
    assert result["import"]["quarantined"] == 0 and result["snapshot"]["capacity"] == 172.0
    total = result["forecast"]["units"][0]
    assert total["unit"] == "All units" and len(total["forecast"]) == 7
    assert total["mape_model"] is not None and total["mape_naive"] is not None
    assert result["los_model"]["drivers"][0]["mean_abs_shap"] > 0 and len(result["los_model"]["clusters"]) == 5
    actions = [e.action for e in audit.entries()]
    assert actions.count("open") == 1 and actions.count("infer") == 2
    assert cli.main(["resources", "analyze", str(out), "--horizon", "7", "--folds", "1"]) == 0
    text = capsys.readouterr().out
    assert "Snapshot at" in text and "backtest MAPE" in text and "Top drivers" in text and "ICU" in text
