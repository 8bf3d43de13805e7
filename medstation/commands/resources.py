"""``medstation resources analyze FILE`` and ``medstation resources generate --out FILE``: the Resources pane,
headless."""
from __future__ import annotations

import argparse
from pathlib import Path

from medstation.commands._util import PrintProgress, print_json

from medstation.core.resources.mapping import FIELDS


def register(subparsers) -> None:
    parser = subparsers.add_parser("resources", help="hospital resources: census, forecasts, length of stay")
    sub = parser.add_subparsers(dest="resources_command", metavar="ACTION", required=True)
    analyze = sub.add_parser("analyze", help="import encounters and print KPIs, forecast, backtest and LOS drivers")
    analyze.add_argument("file", help="CSV, Parquet or FHIR Encounter bundle (JSON)")
    analyze.add_argument("--json", action="store_true", help="print one JSON document")
    analyze.add_argument("--horizon", type=int, default=14, help="forecast days, 7 to 14 (default 14)")
    analyze.add_argument("--folds", type=int, default=4, help="rolling backtest folds (default 4)")
    analyze.add_argument("--length-unit", choices=("days", "hours", "minutes"),
                         help="unit of a length column (default: guessed from its name)")
    analyze.add_argument("--day-origin", help="the admit column holds day numbers; this is the date of day 1")
    analyze.add_argument("--column", action="append", default=[], metavar="FIELD=NAME",
                         help="which column holds a field, e.g. --column admit_time=AdmitDateTime (repeatable; "
                              "fields: " + ", ".join(FIELDS) + ")")
    analyze.add_argument("--mapping", metavar="FILE.json",
                         help="a column mapping as the mapping dialog saves it: "
                              '{"columns": {"admit_time": "NAME", ...}, "length_unit": "days"}')
    analyze.set_defaults(func=_analyze)
    gen = sub.add_parser("generate", help="write the documented sample hospital's encounters (CSV or Parquet)")
    gen.add_argument("--out", required=True, help="output file (.csv or .parquet)")
    gen.add_argument("--days", type=int, default=365)
    gen.add_argument("--seed", type=int, default=7)
    gen.set_defaults(func=_generate)


def _generate(args: argparse.Namespace) -> int:
    from medstation.core.resources.generate import generate, write

    frame = generate(days=args.days, seed=args.seed)
    path = write(frame, Path(args.out))
    print(f"wrote {len(frame):,} unit stays ({frame['encounter_id'].nunique():,} encounters, {args.days} days, "
          f"seed {args.seed}) to {path}")
    return 0


def chosen_mapping(args: argparse.Namespace):
    """The mapping for ``resources analyze``: --mapping FILE.json, else the header guess; --column pairs override
    field by field; a required field still missing is refused with the columns found and the flag to use."""
    import json

    from medstation.core.errors import MedStationError
    from medstation.core.resources import checks, mapping, store
    from medstation.services.resources import mapping_for

    path = Path(args.file)
    if path.suffix.lower() == ".json":
        return mapping_for(path)
    header = store.read_header(path)
    columns = mapping.parse_columns(args.column, header)
    if args.mapping:
        try:
            saved = mapping.Mapping.from_dict(json.loads(Path(args.mapping).read_text(encoding="utf-8")))
        except (OSError, ValueError) as exc:
            raise MedStationError(f"the mapping file {args.mapping} could not be read as JSON ({exc})") from exc
        saved.columns.update(columns)
        chosen = saved
    else:
        chosen = mapping_for(path, columns=columns)
    if args.length_unit:
        chosen.length_unit = args.length_unit
    elif "length" in columns:
        chosen.length_unit = mapping.length_unit_of(columns["length"])
    if args.day_origin:
        chosen.day_origin, chosen.day_numbers = args.day_origin, True
    checks.refuse(path, checks.check_mapping(path, chosen)[0])  # a chosen column the data refute, said first
    missing = chosen.missing()
    if missing:
        fields = [f for f, (label, _req) in mapping.FIELDS.items() if label in [m.split(" (")[0] for m in missing]]
        notes = "".join(f" ({n})" for n in chosen.notes)
        raise MedStationError(f"{path.name}: no column chosen for {', '.join(missing)}{notes}; columns found: "
                              f"{', '.join(header)}", kept="nothing was imported; say which column holds it with "
                              + " ".join(f"--column {f}=NAME" for f in fields) + " or --mapping FILE.json")
    return chosen


def _analyze(args: argparse.Namespace) -> int:
    from medstation.core.jobs import JobContext
    from medstation.services.resources import analyze

    chosen = chosen_mapping(args)
    result = analyze(Path(args.file), horizon=args.horizon, folds=args.folds, chosen=chosen,
                     ctx=JobContext(on_progress=PrintProgress("analyze")))
    if args.json:
        print_json(result)
    else:
        _print_text(result)
    return 0


def _fmt(value, digits: int = 1) -> str:
    return "n/a" if value is None else f"{value:.{digits}f}"


def _print_text(r: dict) -> None:
    imp, unit = r["import"], r["length_unit"]
    print(f"{r['source']}: {imp['summary']}")
    for line, col, reason in imp["problems"][:10]:
        print(f"  quarantined {imp['line_label']} {line}, {col}: {reason}")
    for text in imp["notes"] + imp["warnings"]:
        print(f"  note: {text}")
    if r["mode"] == "length of stay only":
        _print_los_only(r)
    else:
        _print_timeline(r)
    _print_los(r["los_model"], unit)


def _print_los_only(r: dict) -> None:
    unit = r["length_unit"]
    print(f"\nLength of stay only: the table has no dates, so there is no census, occupancy or forecast.")
    for by, title in (("unit", "unit"), ("admission_type", "admission type")):
        print(f"{title:<24}{'n':>8}{'mean':>8}{'median':>8}{'p95':>8}  ({unit})")
        for g in r["los_distribution"][by]:
            print(f"{g['group'][:23]:<24}{g['n']:>8,}{g['mean']:>8.1f}{g['median']:>8.1f}{g['p95']:>8.1f}")


def _print_timeline(r: dict) -> None:
    snap = r["snapshot"]
    print(f"\nSnapshot at {snap['as_of']} ({r['census_kind']} census): {snap['census']} in, "
          f"occupancy {snap['occupancy'] * 100:.1f}% of {snap['capacity']:.0f} beds, {snap['free_beds']} free, "
          f"{snap['expected_discharges_24h']:.1f} expected out in 24 h")
    print(f"{'unit':<24}{'capacity':>9} {'source':<12}{'mean census':>12}{'peak':>6}{'mean LOS':>10}")
    for u in r["units"]:
        print(f"{u['unit'][:23]:<24}{u['capacity']:>9} {u['capacity_source']:<12}{u['mean_census']:>12.1f}"
              f"{u['peak_census']:>6}{_fmt(u['mean_los']):>10}")
    print(f"\nForecast of daily census, {r['forecast']['horizon']} days (80% / 95% intervals); backtest over "
          f"{r['forecast']['folds']} rolling folds:")
    for f in r["forecast"]["units"]:
        print(f"  {f['unit']}: {f['model']}, backtest MAPE {_fmt(f['mape_model'])}% vs seasonal naive "
              f"{_fmt(f['mape_naive'])}%, 80% interval held {_fmt((f['coverage80'] or 0) * 100, 0)}% of days")
        for d in f["forecast"]:
            print(f"      {d['day']}  {d['mean']:7.1f}  [{d['lower80']:.1f}, {d['upper80']:.1f}]"
                  f"  [{d['lower95']:.1f}, {d['upper95']:.1f}]")


def _print_los(los: dict, unit: str) -> None:
    if los.get("error"):
        print(f"\nLength-of-stay model: {los['error']}")
        return
    print(f"\nLength-of-stay model (trained on this file's {los['train']:,} encounters, {los['test']:,} held out): "
          f"MAE {los['mae']:.2f} {unit}, RMSE {los['rmse']:.2f} {unit}; baselines on the same encounters: "
          f"unit x admission-type median MAE {los['unit_type_median_mae']:.2f}, overall median MAE "
          f"{los['baseline_mae']:.2f}, mean RMSE {los['baseline_rmse']:.2f}")
    print(los["verdict"])
    print("Top drivers (mean |SHAP|, " + unit + "): " +
          ", ".join(f"{d['label']} {d['mean_abs_shap']:.2f}" for d in los["drivers"][:6]))
    print("Clusters by bed use:")
    for c in los["clusters"]:
        print(f"  {c['size']:>7,} patients ({c['share'] * 100:4.1f}%), mean LOS {c['mean_los']:.1f} {unit}, "
              f"{c['bed_day_share'] * 100:4.1f}% of bed {unit}; mostly {c['typical_unit']}, {c['typical_admission']}"
              + (f", mean age {c['mean_age']:.0f}" if c["mean_age"] is not None else ""))
