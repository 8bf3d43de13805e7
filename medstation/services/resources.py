"""The Resources area's service: import an ADT/FHIR file into a dataset, forecast census for the busiest units,
train and explain the length-of-stay model, export charts and tables - for the Resources pane, and ``analyze``
doing all of it at once for ``medstation resources analyze`` (plain, JSON-ready data). Each step is audited here."""
from __future__ import annotations

import csv
from pathlib import Path

import numpy as np

from medstation.core import atomic, audit
from medstation.core.jobs import JobContext, null_context
from medstation.core.resources import analytics, checks, mapping, store
from medstation.core.resources.forecast import Forecast, forecast_summary
from medstation.core.resources.fhir import MAPPING as FHIR_MAPPING
from medstation.inference.resources import los

MODEL_NAME = "resources-los-hgb (trained on the loaded data)"
MAX_FORECAST_UNITS = 12  # the busiest units (and the whole hospital) are forecast up front; others on demand


def mapping_for(path: Path, overrides: dict | None = None, columns: dict | None = None) -> mapping.Mapping:
    """The guessed mapping of ``path``, checked against its first rows: a guessed column whose values do not fit
    its field (a 0/1 flag as the admit time) is left out, with a note saying why. ``columns`` (chosen by the
    user) replace the guess field by field and are never left out: the import refuses them with the reason."""
    if path.suffix.lower() == ".json":
        return mapping.Mapping.from_dict(FHIR_MAPPING.to_dict())
    guessed = mapping.guess(store.read_header(path))
    for key, value in (overrides or {}).items():
        setattr(guessed, key, value)
    chosen = dict(columns or {})
    for column in chosen.values():  # a column the user chose is not also guessed for another field
        guessed.columns = {f: c for f, c in guessed.columns.items() if c != column}
    guessed.columns.update(chosen)
    refusals, _doubts = checks.check_mapping(path, guessed)
    for fld, reason in refusals:
        if fld not in chosen:
            guessed.columns.pop(fld, None)
            guessed.notes.append(f"{reason}: not used")
    if "discharge_time" in guessed.columns and "discharge_time" not in chosen and "length" in chosen:
        guessed.columns.pop("discharge_time")
    return guessed


def unit_table(ds: store.Dataset, summary: analytics.Summary) -> list[dict]:
    los_mean = {g.group: g.mean for g in analytics.los_by(ds.cursor(), "unit", scale=ds.length_scale)}
    return [{"unit": u, "capacity": int(summary.capacity[i]), "capacity_source": summary.capacity_source[i],
             "mean_census": float(summary.census[i].mean()) if summary.census.shape[1] else 0.0,
             "peak_census": int(summary.census[i].max()) if summary.census.shape[1] else 0,
             "mean_los": los_mean.get(u)} for i, u in enumerate(summary.units)]


def import_dataset(path: str | Path, chosen: mapping.Mapping, ctx: JobContext | None = None):
    """Import ``path`` with the column mapping ``chosen`` into its dataset; (ImportReport, open Dataset, Summary).
    Audited as opened. The caller closes the dataset."""
    ctx = ctx or null_context()
    path = Path(path)
    report = store.import_file(path, chosen, ctx.sub(0.0, 0.9))
    ds = store.Dataset(store.dataset_path(path))
    ctx.progress(0.95, None, "summarising census")
    summary = ds.summary()
    audit.record("open", str(report.path), detail=report.summary())
    return report, ds, summary


def sample_hospital(ctx: JobContext | None = None) -> Path:
    """Write a year of the generated sample hospital (seed 7) under the cache folder; its path."""
    from medstation.core import paths
    from medstation.core.resources.generate import generate, write

    (ctx or null_context()).progress(0.1, None, "generating 365 days of the sample hospital")
    return write(generate(days=365, seed=7), paths.cache_dir() / "resources" / "sample-hospital.csv")


def busiest_units(summary: analytics.Summary, count: int = MAX_FORECAST_UNITS) -> list[str]:
    """The ``count`` units with the highest mean census, in the summary's unit order."""
    if not summary.census.shape[1]:
        return []
    return [summary.units[i] for i in sorted(np.argsort(-summary.census.mean(1))[:count])]


def forecast(summary: analytics.Summary, dataset_name: str, horizon: int = 14, folds: int = 4,
             units: list[str] | None = None, ctx: JobContext | None = None) -> Forecast:
    """ETS census forecast with a rolling-origin backtest for ``units`` (default: the busiest) and the hospital."""
    chosen = units or busiest_units(summary) or None
    fc = forecast_summary(summary, horizon, folds, chosen, ctx=ctx or null_context())
    audit.record("infer", dataset_name, detail=f"census forecast {fc.horizon} days for {len(fc.units)} series, "
                                               "backtested", model="census-ets", model_version="statsmodels")
    return fc


def viewed(obj: str, detail: str) -> None:
    """The user looked at ``obj`` (an encounter's drivers, reported by the pane)."""
    audit.record("view", obj, detail=detail)


def export_png(path: str | Path, png: bytes, what: str) -> None:
    """Write a chart the pane rendered as PNG bytes to ``path`` (atomically); audited."""
    atomic.write_bytes(path, png)
    audit.record("export", str(path), detail=f"resources {what} chart (PNG)")


def export_tables(path: str | Path, tables: dict[str, tuple[list[str], list[list]]], what: str) -> list[Path]:
    """The first non-empty table goes to ``path``, the others beside it as ``<stem>-<name>.csv``; audited."""
    path, written = Path(path), []
    for i, (name, (header, rows)) in enumerate(t for t in tables.items() if t[1][0]):
        target = path if i == 0 else path.with_name(f"{path.stem}-{name}{path.suffix or '.csv'}")
        with atomic.atomic_path(target) as tmp, open(tmp, "w", newline="", encoding="utf-8") as handle:
            writer = csv.writer(handle)
            writer.writerow(header)
            writer.writerows(rows)
        written.append(target)
    audit.record("export", str(path), detail=f"resources {what} data (CSV): {', '.join(p.name for p in written)}")
    return written


def _audit_los(dataset_name: str, model, trained: str, extra: str = "") -> None:
    audit.record("infer", dataset_name, model=MODEL_NAME, model_version="run-time",
                 detail=f"length-of-stay model {trained}, held-out MAE {model.mae:.2f} {model.unit} (unit x "
                        f"admission-type median {model.group_mae:.2f}, overall median {model.baseline_mae:.2f})"
                        + extra)


def los_section(ds: store.Dataset, ctx: JobContext) -> dict:
    from medstation.core.errors import MedStationError

    data = los.load_encounters(ds.cursor(), ds.length_scale, extras=ds.extras)
    try:
        model = los.train(data, ds.length_unit, ctx)
    except MedStationError as exc:
        return {"error": exc.sentence()}
    _labels, groups = los.clusters(data)
    _audit_los(ds.name, model, f"trained on {len(data.y)} encounters")
    return {"train": int(len(data.y) - len(model.test_index)), "test": int(len(model.test_index)),
            "mae": model.mae, "rmse": model.rmse, "baseline_mae": model.baseline_mae,
            "baseline_rmse": model.baseline_rmse, "unit_type_median_mae": model.group_mae,
            "beats_baseline": model.beats_baseline, "verdict": model.verdict(),
            "drivers": [{"feature": f, "label": data.label(f), "mean_abs_shap": v} for f, v in model.drivers()],
            "clusters": [c.__dict__ for c in groups]}


def _import_part(report: store.ImportReport, chosen: mapping.Mapping) -> dict:
    return {"summary": report.summary(), "rows": report.rows, "loaded": report.loaded,
            "quarantined": report.quarantined, "line_label": report.line_label,
            "problems": [list(p) for p in report.problems], "warnings": list(report.warnings),
            "mapping": chosen.to_dict(), "notes": list(chosen.notes)}


def _los_only(path: Path, ds: store.Dataset, report: store.ImportReport, chosen: mapping.Mapping,
              ctx: JobContext) -> dict:
    """A table of lengths of stay without dates: distributions by unit and admission type, the LOS model and its
    drivers; no census, snapshot or forecast (there is no timeline to draw them on)."""
    cur = ds.cursor()
    groups = {by: [g.__dict__ for g in analytics.los_by(cur, by, scale=ds.length_scale)]
              for by in ("unit", "admission_type")}
    return {"source": str(path), "mode": "length of stay only", "length_unit": ds.length_unit,
            "import": _import_part(report, chosen), "los_distribution": groups,
            "los_model": los_section(ds, ctx.sub(0.3, 1.0))}


def analyze(path: Path, horizon: int = 14, overrides: dict | None = None, ctx: JobContext | None = None,
            folds: int = 4, chosen: mapping.Mapping | None = None) -> dict:
    ctx = ctx or null_context()
    path = Path(path)
    chosen = chosen or mapping_for(path, overrides)
    report, ds, summary = import_dataset(path, chosen, ctx.sub(0.0, 0.3))
    try:
        if ds.los_only:
            return _los_only(path, ds, report, chosen, ctx)
        snap = analytics.snapshot(ds.cursor(), summary)
        fc = forecast(summary, ds.name, horizon, folds, ctx=ctx.sub(0.3, 0.7))
        los_part = los_section(ds, ctx.sub(0.7, 1.0))
        return {"source": str(path), "mode": "encounters", "length_unit": ds.length_unit,
                "census_kind": summary.census_kind, "import": _import_part(report, chosen),
                "snapshot": {"as_of": str(snap.as_of), "census": snap.census, "capacity": snap.capacity,
                             "occupancy": snap.occupancy, "free_beds": snap.free_beds,
                             "expected_discharges_24h": snap.expected_discharges_24h},
                "units": unit_table(ds, summary),
                "forecast": {"horizon": fc.horizon, "folds": fc.folds, "units": [u.to_dict() for u in fc.units]},
                "los_model": los_part}
    finally:
        ds.close()


class LosInsights:
    """What the pane's drivers tab shows: the model, SHAP for up to 1,000 held-out patients, clusters."""

    def __init__(self, model, sample, shap_values, drivers, labels, groups):
        self.model, self.sample, self.shap_values = model, sample, shap_values
        self.drivers, self.cluster_labels, self.clusters = drivers, labels, groups


def los_insights(dataset_path: Path, length_unit: str, scale: float, ctx: JobContext | None = None,
                 sample: int = 1000, max_iter: int = 200) -> LosInsights:
    """Train on the dataset (own read-only cursor), explain held-out patients, cluster; for a background job.
    Audited as an inference."""
    ctx = ctx or null_context()
    ds = store.Dataset(dataset_path)
    try:
        ctx.progress(0.05, None, "collecting encounters")
        data = los.load_encounters(ds.cursor(), scale, extras=ds.extras)
        name = ds.name
    finally:
        ds.close()
    model = los.train(data, length_unit, ctx.sub(0.1, 0.7), max_iter=max_iter)
    ctx.progress(0.75, None, "explaining held-out patients (SHAP)")
    idx = model.test_index[:sample]
    values = model.shap_values(data.X[idx])
    mean_abs = np.abs(values).mean(0) if len(idx) else np.zeros(len(data.features))
    order = list(np.argsort(mean_abs)[::-1])
    drivers = [(data.features[i], float(mean_abs[i])) for i in order]
    ctx.progress(0.9, None, "clustering patients")
    labels, groups = los.clusters(data)
    _audit_los(name, model, f"on {len(data.y)} encounters", f"; SHAP for {len(idx)} patients")
    ctx.progress(1.0, None, "length-of-stay drivers ready")
    return LosInsights(model, idx, values, drivers, labels, groups)
