"""Census, arrivals, length of stay and the snapshot, checked against brute-force counts on the raw stays."""
from __future__ import annotations

from datetime import date, datetime

import numpy as np
import pandas as pd

from medstation.core.resources import analytics


def _brute_midnight_census(frame: pd.DataFrame, unit: str, day: np.datetime64) -> int:
    end = pd.Timestamp(day) + pd.Timedelta(days=1)
    f = frame[frame.unit == unit]
    return int(((f.admit_time < end) & (f.discharge_time.isna() | (f.discharge_time >= end))).sum())


def test_daily_census_matches_brute_force(hospital):
    ds, frame = hospital
    summary = ds.summary()
    assert summary.units[:2] == ["Cardiology", "ICU"] and summary.census_kind == "midnight"
    for unit in ("ICU", "Medicine A", "Maternity"):
        u = summary.units.index(unit)
        for d in (10, 55, len(summary.days) - 2):
            assert summary.census[u, d] == _brute_midnight_census(frame, unit, summary.days[d])
    per_day = frame.groupby(frame.admit_time.dt.date).size()
    total = summary.admissions.sum(0)
    assert total[30] == per_day.loc[pd.Timestamp(summary.days[30]).date()]
    assert summary.discharges.sum() == frame.discharge_time.notna().sum()


def test_series_filters_by_unit_and_dates(hospital):
    ds, _frame = hospital
    s = ds.summary()
    whole = s.series(None)
    icu = s.series(["ICU"], date(2024, 2, 1), date(2024, 2, 29))
    assert len(icu["days"]) == 29 and str(icu["days"][0]) == "2024-02-01"
    assert icu["capacity"] == 12.0 and whole["capacity"] == 172.0
    assert np.array_equal(icu["census"], s.census[s.units.index("ICU"), 31:60])


def test_arrivals_heatmap_counts_encounters_by_weekday_and_hour(hospital):
    ds, frame = hospital
    grid = analytics.arrivals_heatmap(ds.cursor())
    first = frame.sort_values("admit_time").drop_duplicates("encounter_id")
    assert grid.sum() == len(first)
    monday_10 = ((first.admit_time.dt.day_of_week == 0) & (first.admit_time.dt.hour == 10)).sum()
    assert grid[0, 10] == monday_10
    assert grid[:, 10:13].sum() > 3 * grid[:, 3:6].sum()  # late-morning peak over the small hours
    surgery = analytics.arrivals_heatmap(ds.cursor(), ["Surgery"], date(2024, 1, 1), date(2024, 1, 31))
    sub = first[(first.unit == "Surgery") & (first.admit_time < "2024-02-01")]
    assert surgery.sum() == len(sub)


def test_length_of_stay_by_unit_and_admission_type(hospital):
    ds, frame = hospital
    groups = {g.group: g for g in analytics.los_by(ds.cursor(), "unit")}
    done = frame[frame.discharge_time.notna()]
    icu = (done[done.unit == "ICU"].discharge_time - done[done.unit == "ICU"].admit_time).dt.total_seconds() / 86400
    assert groups["ICU"].n == len(icu)
    assert abs(groups["ICU"].median - icu.median()) < 1e-6 and abs(groups["ICU"].mean - icu.mean()) < 1e-6
    by_type = {g.group: g for g in analytics.los_by(ds.cursor(), "admission_type")}
    assert by_type["elective"].median < by_type["emergency"].median


def test_snapshot_counts_patients_in_and_expected_discharges(hospital):
    ds, frame = hospital
    s = ds.summary()
    snap = analytics.snapshot(ds.cursor(), s)
    as_of = pd.Timestamp(s.as_of)
    inside = (frame.admit_time <= as_of) & (frame.discharge_time.isna() | (frame.discharge_time > as_of))
    assert snap.census == int(inside.sum()) and snap.capacity == 172.0
    assert snap.free_beds == 172 - snap.census and abs(snap.occupancy - snap.census / 172) < 1e-12
    assert 0.1 * snap.census < snap.expected_discharges_24h < 0.6 * snap.census


def test_conditional_discharge_probability():
    los = np.array([10.0, 20.0, 30.0, 40.0])
    assert analytics._p_discharge(los, 15.0, 10.0) == 1 / 3  # of 20, 30, 40 only 20 ends by 25 h
    assert analytics._p_discharge(los, 50.0, 24.0) == 1.0
    assert analytics._p_discharge(None, 5.0, 24.0) == 0.0
    assert isinstance(datetime.now(), datetime)
