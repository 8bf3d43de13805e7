"""Resources pane speed: importing 1,000,000 encounters, aggregating them to daily census by unit, redrawing the
dashboards after a filter change, and SHAP for 1,000 patients with TreeExplainer."""
from __future__ import annotations

import os
import tempfile
import time
from pathlib import Path


def _timed(fn, *args, **kwargs):
    start = time.perf_counter()
    result = fn(*args, **kwargs)
    return result, time.perf_counter() - start


def run(report) -> None:
    os.environ.setdefault("MEDSTATION_HOME", tempfile.mkdtemp(prefix="medstation-bench-"))
    from medstation.core.resources import analytics, generate, mapping, store

    folder = Path(tempfile.mkdtemp(prefix="resources-bench-"))
    n = 1_000_000
    frame, gen_s = _timed(generate.generate, days=generate.days_for(n), seed=1)
    frame = frame.iloc[:n]
    csv_path = generate.write(frame, folder / "encounters.csv")
    parquet = generate.write(frame, folder / "encounters.parquet")
    report("generate encounters (sample hospital)", gen_s, "s", note=f"{len(frame):,} unit stays")
    m = mapping.guess(store.read_header(csv_path))
    rep, csv_s = _timed(store.import_file, csv_path, m)
    report("import 1,000,000 encounters from CSV (validate + store)", csv_s, "s", goal="< 10 s",
           note=f"{rep.loaded:,} loaded, {rep.quarantined} quarantined")
    rep, pq_s = _timed(store.import_file, parquet, m)
    report("import 1,000,000 encounters from Parquet", pq_s, "s", goal="< 10 s")
    _bench_census(report, store.Dataset(store.dataset_path(parquet)), frame)
    _bench_redraw(report, parquet)
    _bench_shap(report, store.Dataset(store.dataset_path(parquet)))


def _bench_census(report, ds, frame) -> None:
    from medstation.core.resources import analytics

    summary, s = _timed(analytics.summarise, ds.cursor(), ds.units)
    report("aggregate to daily census by unit (DuckDB)", s, "s", goal="< 1 s",
           note=f"{len(summary.units)} units x {len(summary.days):,} days")
    import numpy as np
    import pandas as pd  # reference: the same census with pandas, on the same rows

    def pandas_census():
        done = frame.dropna(subset=["discharge_time"])
        events = pd.DataFrame({
            "unit": pd.concat([frame.unit, done.unit], ignore_index=True),
            "day": pd.concat([frame.admit_time.dt.floor("D"), done.discharge_time.dt.floor("D")],
                             ignore_index=True),
            "delta": np.r_[np.ones(len(frame), np.int64), -np.ones(len(done), np.int64)]})
        daily = events.groupby(["unit", "day"], sort=True).delta.sum()
        return daily.groupby(level=0).cumsum()

    _ref, ref_s = _timed(pandas_census)
    report("  reference: pandas groupby + cumsum (in memory)", ref_s, "s",
           note="census only, from the frame in memory; the DuckDB figure reads the store and also fills the "
                "calendar and counts admissions and discharges")
    ds.close()


def _bench_redraw(report, parquet) -> None:
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    from datetime import timedelta

    from medstation.gui.app import create_window
    from medstation.gui.panes.resources.pane import ResourcesPane
    from medstation.core.resources import store

    _app, window = create_window()
    pane = window.pane(ResourcesPane.key)
    ds = store.Dataset(store.dataset_path(parquet))
    pane.dataset, pane.summary = ds, ds.summary()
    pane.report = store.ImportReport(parquet, 0, 0, 0, [], "row")
    pane.start_forecast = pane.start_los = lambda *a: None  # timing the dashboards only
    pane._fill_filters()
    pane.stack.setCurrentIndex(1)
    times = []
    for unit in ("ICU", "Surgery", "All units", "Medicine A"):
        end = pane.end.date().toPython()
        pane.unit.blockSignals(True)
        pane.unit.setCurrentText(unit)
        pane.unit.blockSignals(False)
        pane.start.blockSignals(True)
        pane.start.setDate(end - timedelta(days=365))
        pane.start.blockSignals(False)
        _r, s = _timed(pane.redraw)
        times.append(s)
    report("dashboard redraw after a filter change (1M encounters)", sorted(times)[len(times) // 2], "s",
           goal="< 0.2 s", note=f"median of {len(times)}; census, flow, heat map, LOS boxes, snapshot")
    window.close()
    ds.close()


def _bench_shap(report, ds) -> None:
    from medstation.inference.resources import los

    data, load_s = _timed(los.load_encounters, ds.cursor(), ds.length_scale, 200_000)
    model, train_s = _timed(los.train, data, ds.length_unit)
    report("train LOS model (HistGradientBoosting, 160k encounters)", train_s, "s",
           note=f"held-out MAE {model.mae:.2f} d vs median {model.baseline_mae:.2f} d")
    X = data.X[model.test_index[:1000]]
    values, s = _timed(model.shap_values, X)
    report("SHAP for 1,000 patients (TreeExplainer)", s, "s", goal="< 2 s",
           note=f"additivity max error {abs(values.sum(1) + model.expected_value - model.predict(X)).max():.1e}")
    ds.close()
