"""One call that does what the Resources pane shows, for the command line: import, KPIs, forecast with backtest,
length-of-stay model with held-out error, drivers and clusters, as plain data (JSON-ready). Audited."""
from __future__ import annotations

from pathlib import Path

import numpy as np

from medstation.core import audit
from medstation.core.jobs import JobContext, null_context
from medstation.core.resources import analytics, checks, forecast, mapping, store
from medstation.core.resources.fhir import MAPPING as FHIR_MAPPING
from medstation.inference.resources import los

MODEL_NAME = "resources-los-hgb (trained on the loaded data)"
MAX_FORECAST_UNITS = 12  # the busiest units (and the whole hospital) are forecast


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


def los_section(ds: store.Dataset, ctx: JobContext) -> dict:
    from medstation.core.errors import MedStationError

    data = los.load_encounters(ds.cursor(), ds.length_scale, extras=ds.extras)
    try:
        model = los.train(data, ds.length_unit, ctx)
    except MedStationError as exc:
        return {"error": exc.sentence()}
    _labels, groups = los.clusters(data)
    audit.record("infer", ds.name, detail=f"length-of-stay model trained on {len(data.y)} encounters, "
                 f"held-out MAE {model.mae:.2f} {ds.length_unit} (unit x admission-type median "
                 f"{model.group_mae:.2f}, overall median {model.baseline_mae:.2f})", model=MODEL_NAME,
                 model_version="run-time")
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
    audit.record("open", path, detail="resources analyze")
    chosen = chosen or mapping_for(path, overrides)
    report = store.import_file(path, chosen, ctx.sub(0.0, 0.3))
    ds = store.Dataset(store.dataset_path(path))
    try:
        if ds.los_only:
            return _los_only(path, ds, report, chosen, ctx)
        summary = ds.summary()
        snap = analytics.snapshot(ds.cursor(), summary)
        busiest = [summary.units[i] for i in sorted(np.argsort(-summary.census.mean(1))[:MAX_FORECAST_UNITS])] \
            if summary.census.shape[1] else None
        fc = forecast.forecast_summary(summary, horizon, folds, busiest, ctx=ctx.sub(0.3, 0.7))
        audit.record("infer", ds.name, detail=f"census forecast {horizon} days, ETS with backtest",
                     model="census-ets", model_version="statsmodels")
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


__all__ = ["analyze", "mapping_for", "unit_table"]


class LosInsights:
    """What the pane's drivers tab shows: the model, SHAP for up to 1,000 held-out patients, clusters."""

    def __init__(self, model, sample, shap_values, drivers, labels, groups):
        self.model, self.sample, self.shap_values = model, sample, shap_values
        self.drivers, self.cluster_labels, self.clusters = drivers, labels, groups


def los_insights(dataset_path: Path, length_unit: str, scale: float, ctx: JobContext | None = None,
                 sample: int = 1000, max_iter: int = 200) -> LosInsights:
    """Train on the dataset (own read-only cursor), explain held-out patients, cluster; for a background job."""
    ctx = ctx or null_context()
    ds = store.Dataset(dataset_path)
    try:
        ctx.progress(0.05, None, "collecting encounters")
        data = los.load_encounters(ds.cursor(), scale, extras=ds.extras)
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
    ctx.progress(1.0, None, "length-of-stay drivers ready")
    return LosInsights(model, idx, values, drivers, labels, groups)
