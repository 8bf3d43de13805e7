"""Encounter data in DuckDB: import CSV, Parquet or FHIR Encounter bundles, validate each row, quarantine the rest.

One imported file becomes one dataset: a DuckDB file under ``data_dir()/resources/``. It holds ``stays`` (one row
per stay in a unit), ``units`` (capacity and where it came from), ``quarantine`` (line, column, reason, value of
every rejected row) and ``meta``. The import is written to a temporary file and renamed into place at the end, so a
cancelled or failed import leaves the previous dataset untouched.
"""
from __future__ import annotations

import hashlib
import json
import os
import threading
import time
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path

from medstation.core import paths
from medstation.core.errors import MedStationError
from medstation.core.jobs import Cancelled, JobContext, null_context
from medstation.core.resources.mapping import Mapping

MAX_LENGTH_DAYS = 365  # a stay longer than a year is treated as a data error
_FORMATS = ["%Y-%m-%d %H:%M:%S", "%Y-%m-%dT%H:%M:%S", "%Y-%m-%d %H:%M", "%d/%m/%Y %H:%M:%S", "%d/%m/%Y %H:%M",
            "%d/%m/%Y", "%m/%d/%Y %H:%M", "%d.%m.%Y %H:%M", "%d.%m.%Y", "%Y%m%d%H%M%S"]
_TEXT = ("encounter_id", "patient_id", "unit", "bed", "sex", "admission_type", "diagnosis_group")
_UNIT_SECONDS = {"days": 86400, "hours": 3600, "minutes": 60}


@dataclass
class ImportReport:
    path: Path
    rows: int
    loaded: int
    quarantined: int
    problems: list[tuple[int, str, str]]  # first few (line, column, reason)
    line_label: str
    warnings: list[str] = field(default_factory=list)  # doubts about the mapping the data raised (one sentence each)

    def summary(self) -> str:
        text = f"{self.loaded:,} of {self.rows:,} rows of {self.path.name} loaded"
        if self.quarantined:
            first = "; ".join(f"{self.line_label} {n}, {c}: {r}" for n, c, r in self.problems[:3])
            text += f"; {self.quarantined:,} quarantined ({first})"
        return text


def datasets_dir() -> Path:
    folder = paths.data_dir() / "resources"
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def _prefix(source: Path) -> str:
    key = hashlib.sha256(str(Path(source).resolve()).encode()).hexdigest()[:10]
    return f"{Path(source).stem[:40]}-{key}"


def dataset_path(source: Path) -> Path:
    """The newest completed import of ``source`` (each import gets its own file, so a dataset that is open while
    the same source is imported again keeps reading its own, consistent copy)."""
    found = sorted(datasets_dir().glob(f"{_prefix(source)}-*.duckdb"))
    return found[-1] if found else datasets_dir() / f"{_prefix(source)}-0.duckdb"


def _new_dataset_path(source: Path) -> Path:
    return datasets_dir() / f"{_prefix(source)}-{time.time_ns():020d}.duckdb"


def _drop_older(source: Path, keep: Path) -> None:
    for old in datasets_dir().glob(f"{_prefix(source)}-*.duckdb"):
        if old != keep:
            old.unlink(missing_ok=True)  # a reader that still has it open keeps its copy until it closes


def _sql_text(value: str) -> str:
    return "'" + str(value).replace("'", "''") + "'"


def _ident(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


class _Interrupter:
    """Interrupts a running DuckDB statement when the job is cancelled (DuckDB queries cannot poll ctx)."""

    def __init__(self, conn, ctx: JobContext):
        self.conn, self.ctx = conn, ctx
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._watch, daemon=True)

    def _watch(self) -> None:
        while not self._stop.wait(0.05):
            if self.ctx.cancelled:
                self.conn.interrupt()
                return

    def __enter__(self):
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        self._thread.join()


def read_header(path: Path) -> list[str]:
    """Column names of a CSV/TSV or Parquet file (FHIR bundles have fixed fields)."""
    import duckdb

    path = Path(path)
    if path.suffix.lower() != ".parquet":
        import csv

        with open(path, newline="", encoding="utf-8", errors="replace") as handle:
            try:
                header = next(csv.reader(handle, delimiter=_delimiter(path)), [])
            except csv.Error as exc:
                raise MedStationError(f"{path.name} line 1 is not a readable CSV header ({exc}); nothing was "
                                      "imported") from exc
        if not header:
            raise MedStationError(f"{path.name} is empty: no header line")
        return header
    reader = _reader(path)
    try:
        return [d[0] for d in duckdb.connect().execute(f"SELECT * FROM {reader} LIMIT 0").description]
    except duckdb.Error as exc:
        raise MedStationError(f"{Path(path).name} could not be read as a table: {exc}") from exc


def _delimiter(path: Path) -> str:
    """The header line's most frequent separator (DuckDB's sniffer gives up on files with ragged rows)."""
    with open(path, encoding="utf-8", errors="replace") as handle:
        first = handle.readline()
    counts = {d: first.count(d) for d in (",", ";", "\t", "|")}
    return max(counts, key=counts.get) if any(counts.values()) else ","


def _reader(path: Path, rejects: bool = False) -> str:
    if path.suffix.lower() == ".parquet":
        return f"read_parquet({_sql_text(path)})"
    extra = ", store_rejects=true" if rejects else ""
    return (f"read_csv({_sql_text(path)}, all_varchar=true, header=true, delim={_sql_text(_delimiter(path))}"
            f"{extra})")


def _load_raw(conn, path: Path) -> str:
    """Stage the file as text columns with a row number; return the label for row numbers in messages."""
    if path.suffix.lower() == ".json":
        from medstation.core.resources.fhir import encounters_frame

        frame = encounters_frame(path)
        conn.register("fhir_rows", frame)
        conn.execute("CREATE TABLE raw AS SELECT * FROM fhir_rows")
        conn.unregister("fhir_rows")
        return "entry"
    if path.suffix.lower() == ".parquet":
        conn.execute(f"CREATE TABLE raw AS SELECT file_row_number + 1 AS row_no, * EXCLUDE (file_row_number) "
                     f"FROM read_parquet({_sql_text(path)}, file_row_number=true)")
        return "row"
    conn.execute(f"CREATE TABLE raw AS SELECT row_number() OVER () + 1 AS row_no, * FROM {_reader(path, True)}")
    _renumber_after_rejects(conn)
    return "line"


def _renumber_after_rejects(conn) -> None:
    """Lines DuckDB could not split (wrong number of fields, bad quoting) are skipped by the reader: quarantine
    them, and give the rows after them their true line numbers."""
    rejected = conn.execute("SELECT line, any_value(error_type), any_value(error_message) FROM reject_errors "
                            "GROUP BY line ORDER BY line").fetchall()
    conn.execute("CREATE TABLE unreadable (line BIGINT, column_name VARCHAR, reason VARCHAR)")
    if not rejected:
        return
    conn.executemany("INSERT INTO unreadable VALUES (?, '(whole line)', ?)",
                     [(int(line), f"{kind.lower()}: {message}") for line, kind, message in rejected])
    conn.execute("""
        CREATE TEMP TABLE true_lines AS
        SELECT l AS line, row_number() OVER (ORDER BY l) + 1 AS k
        FROM range(2, (SELECT count(*) FROM raw) + (SELECT count(*) FROM unreadable) + 2) t(l)
        WHERE l NOT IN (SELECT line FROM unreadable)""")
    conn.execute("UPDATE raw SET row_no = true_lines.line FROM true_lines WHERE raw.row_no = true_lines.k")


def _types(conn) -> dict[str, str]:
    return {name: str(kind).upper() for name, kind, *_ in conn.execute("DESCRIBE raw").fetchall()}


def _time_expr(column: str, day_number: bool, origin: str, kind: str = "VARCHAR") -> str:
    col = _ident(column)
    if kind.startswith(("TIMESTAMP", "DATE")):  # typed columns (Parquet) need no parsing
        return f"CAST({col} AS TIMESTAMP)"
    if day_number:
        return (f"(TIMESTAMP {_sql_text(origin)} + to_microseconds(CAST(ROUND((TRY_CAST({col} AS DOUBLE) - 1) "
                f"* 86400e6) AS BIGINT)))")
    formats = "[" + ", ".join(_sql_text(f) for f in _FORMATS) + "]"
    return (f"COALESCE(TRY_CAST({col} AS TIMESTAMP), TRY_CAST(TRY_CAST({col} AS TIMESTAMPTZ) AS TIMESTAMP), "
            f"TRY_STRPTIME({col}, {formats}))")


ALL_ENCOUNTERS = "all encounters"  # the one group of a length-of-stay-only table without a unit column


def _typed_sql(conn, mapping: Mapping, extras: list[str] | None = None) -> str:
    """SELECT that turns raw text into typed stay columns plus the raw values checks need."""
    cols, kinds = mapping.columns, _types(conn)
    text = lambda c: f"CAST({_ident(c)} AS VARCHAR)"  # noqa: E731
    day_number = mapping.day_numbers
    if cols.get("admit_time"):
        admit = _time_expr(cols["admit_time"], day_number, mapping.day_origin, kinds.get(cols["admit_time"], ""))
        parts = ["row_no", f"{admit} AS admit", f"{text(cols['admit_time'])} AS raw_admit"]
    else:  # length-of-stay-only table: no timeline at all, never one invented from row numbers
        admit = "NULL::TIMESTAMP"
        parts = ["row_no", "NULL::TIMESTAMP AS admit", "NULL::VARCHAR AS raw_admit"]
    seconds = _UNIT_SECONDS.get(mapping.length_unit, 86400)
    if cols.get("discharge_time"):
        kind = kinds.get(cols["discharge_time"], "")
        parts += [f"{_time_expr(cols['discharge_time'], day_number, mapping.day_origin, kind)} AS discharge",
                  f"{text(cols['discharge_time'])} AS raw_discharge", "NULL::DOUBLE AS length_s",
                  "NULL::VARCHAR AS raw_length"]
    elif cols.get("length"):
        length = f"TRY_CAST({_ident(cols['length'])} AS DOUBLE)"
        raw = text(cols["length"])
        if cols.get("length_2"):
            length += f" + TRY_CAST({_ident(cols['length_2'])} AS DOUBLE)"
            raw = f"concat_ws(' + ', {raw}, {text(cols['length_2'])})"
        parts += [f"{admit} + to_microseconds(CAST(ROUND(({length}) * {seconds}e6) AS BIGINT)) AS discharge",
                  "NULL::VARCHAR AS raw_discharge", f"({length}) * {seconds} AS length_s", f"{raw} AS raw_length"]
    else:
        parts += ["NULL::TIMESTAMP AS discharge", "NULL::VARCHAR AS raw_discharge", "NULL::DOUBLE AS length_s",
                  "NULL::VARCHAR AS raw_length"]
    for name in _TEXT:
        expr = f"NULLIF(TRIM({text(cols[name])}), '')" if cols.get(name) else "NULL::VARCHAR"
        if name == "unit" and mapping.los_only:
            expr = f"COALESCE({expr}, {_sql_text(ALL_ENCOUNTERS)})"
        parts.append(f"{expr} AS {name}")
    for i, column in enumerate(extras or []):
        parts.append(f"NULLIF(TRIM({text(column)}), '') AS x{i}")
    for name, kind in (("age", "DOUBLE"), ("transfers", "INTEGER"), ("capacity", "INTEGER")):
        if cols.get(name):
            parts += [f"TRY_CAST({_ident(cols[name])} AS {kind}) AS {name}",
                      f"NULLIF(TRIM({text(cols[name])}), '') AS raw_{name}"]
        else:
            parts += [f"NULL::{kind} AS {name}", f"NULL::VARCHAR AS raw_{name}"]
    return "SELECT " + ", ".join(parts) + " FROM raw"


def _checks(mapping: Mapping) -> list[tuple[str, str, str]]:
    """(column, reason SQL, condition SQL) for every validation rule; a row failing any is quarantined."""
    c = mapping.columns
    rules = [
        (c.get("admit_time", ""), "'admit time is empty'", "raw_admit IS NULL OR TRIM(raw_admit) = ''"),
        (c.get("admit_time", ""), "'''' || raw_admit || ''' is not a date/time'", "raw_admit <> '' AND admit IS NULL"),
        (c.get("unit", ""), "'unit is empty'", "unit IS NULL"),
        (c.get("discharge_time", ""), "'''' || raw_discharge || ''' is not a date/time'",
         "TRIM(raw_discharge) <> '' AND discharge IS NULL"),
        (c.get("discharge_time", ""), "'discharge is before admission'", "discharge < admit"),
        (c.get("length", ""), "'length ''' || raw_length || ''' is not a number'",
         "raw_length IS NOT NULL AND length_s IS NULL"),
        (c.get("length", ""), "'length is missing'",
         "raw_length IS NULL" + ("" if mapping.los_only else " AND raw_admit IS NOT NULL")),
        (c.get("length", ""), "'length ' || raw_length || ' is negative'", "length_s < 0"),
        (c.get("length", "") or c.get("discharge_time", ""),
         f"'stay longer than {MAX_LENGTH_DAYS} days'",
         f"discharge - admit > INTERVAL {MAX_LENGTH_DAYS} DAY"),
        (c.get("age", ""), "'age ''' || raw_age || ''' is not a number from 0 to 120'",
         "raw_age IS NOT NULL AND (age IS NULL OR age < 0 OR age > 120)"),
        (c.get("transfers", ""), "'transfers ''' || raw_transfers || ''' is not a whole number >= 0'",
         "raw_transfers IS NOT NULL AND (transfers IS NULL OR transfers < 0)"),
        (c.get("capacity", ""), "'capacity ''' || raw_capacity || ''' is not a whole number > 0'",
         "raw_capacity IS NOT NULL AND (capacity IS NULL OR capacity <= 0)"),
    ]
    return [r for r in rules if r[0]]


def _has_table(conn, name: str) -> bool:
    return bool(conn.execute("SELECT count(*) FROM duckdb_tables() WHERE table_name = ?", [name]).fetchone()[0])


def _write_tables(conn, mapping: Mapping, ctx: JobContext, extras: list[str]) -> None:
    conn.execute(f"CREATE TEMP TABLE typed AS {_typed_sql(conn, mapping, extras)}")
    ctx.progress(0.5, None, "validating rows")
    checks = " UNION ALL ".join(
        f"SELECT row_no AS line, {_sql_text(col)} AS column_name, {reason} AS reason FROM typed WHERE {cond}"
        for col, reason, cond in _checks(mapping))
    unreadable = " UNION ALL SELECT * FROM unreadable" if _has_table(conn, "unreadable") else ""
    conn.execute(f"CREATE TABLE quarantine AS {checks}{unreadable}")
    ctx.progress(0.65, None, "storing stays")
    conn.execute(f"""
        CREATE TABLE stays AS
        SELECT row_no, COALESCE(encounter_id, 'row-' || row_no) AS encounter_id, patient_id, admit, discharge,
               unit, bed, COALESCE(transfers, 0) AS transfers, age, sex,
               COALESCE(admission_type, 'unknown') AS admission_type,
               COALESCE(diagnosis_group, 'unknown') AS diagnosis_group, capacity,
               COALESCE(length_s, epoch(discharge - admit)) AS length_s{"".join(f", x{i}" for i in range(len(extras)))},
               row_number() OVER (PARTITION BY COALESCE(encounter_id, 'row-' || row_no)
                                  ORDER BY admit, row_no) = 1 AS first_stay
        FROM typed ANTI JOIN quarantine ON typed.row_no = quarantine.line""")
    conn.execute("DROP TABLE typed")


def _write_units(conn, active: bool) -> None:
    """Capacity per unit: from the file when mapped, else the unit's peak midnight census (said so in the UI)."""
    from medstation.core.resources.analytics import census_sql

    conn.execute(f"""
        CREATE TABLE units AS
        WITH peak AS (SELECT unit, MAX(census) AS peak FROM ({census_sql('stays', active)}) GROUP BY unit),
             cap AS (SELECT unit, MAX(capacity) AS capacity FROM stays GROUP BY unit)
        SELECT cap.unit, COALESCE(cap.capacity, GREATEST(peak.peak, 1))::INTEGER AS capacity,
               CASE WHEN cap.capacity IS NULL THEN 'peak census' ELSE 'file' END AS capacity_source
        FROM cap LEFT JOIN peak USING (unit) ORDER BY cap.unit""")


def import_file(path: Path, mapping: Mapping, ctx: JobContext | None = None,
                target: Path | None = None) -> ImportReport:
    """Import ``path`` into its dataset file (replacing an earlier import of it when this one completes)."""
    import duckdb

    from medstation.core.resources import checks

    ctx = ctx or null_context()
    path = Path(path)
    if not path.exists():
        raise MedStationError(f"{path} does not exist")
    missing = mapping.missing()
    if missing:
        raise MedStationError(f"{path.name}: no column chosen for {', '.join(missing)}", kept="nothing was imported")
    own_target = target is None
    target = Path(target) if target else _new_dataset_path(path)
    tmp = target.with_name(target.name + ".importing")
    tmp.unlink(missing_ok=True)
    conn = duckdb.connect(str(tmp))
    conn.execute("SET TimeZone = 'UTC'")
    try:
        with _Interrupter(conn, ctx):
            ctx.progress(0.02, None, f"reading {path.name}")
            label = _load_raw(conn, path)
            header = [d[0] for d in conn.execute("SELECT * FROM raw LIMIT 0").description]
            absent = [c for c in mapping.columns.values() if c and c not in header]
            if absent:
                raise MedStationError(f"{path.name} has no column {', '.join(map(repr, absent))}",
                                      kept="nothing was imported")
            refusals, doubts = checks.mapping_problems(conn, "raw", mapping)
            checks.refuse(path, refusals)
            extras = checks.extra_columns(conn, mapping)
            ctx.progress(0.3, None, "parsing times")
            _write_tables(conn, mapping, ctx, extras)
            ctx.progress(0.85, None, "computing capacities")
            _write_units(conn, mapping.length_unit != "days" and not mapping.columns.get("discharge_time"))
            report = _report(conn, path, label)
            report.warnings = doubts
            _write_meta(conn, path, mapping, report, extras)
            conn.execute("DROP TABLE raw")
            conn.execute("CHECKPOINT")
    except duckdb.InterruptException:
        raise Cancelled() from None
    except duckdb.Error as exc:
        raise MedStationError(f"{path.name} could not be imported: {str(exc).splitlines()[0]}",
                              kept="the earlier import of this file, if any, is kept") from exc
    finally:
        conn.close()
        if ctx.cancelled or not tmp.exists() or 'report' not in locals():
            tmp.unlink(missing_ok=True)
    os.replace(tmp, target)
    if own_target:
        _drop_older(path, target)
    ctx.progress(1.0, None, "imported")
    report.path = path
    return report


def _report(conn, path: Path, label: str) -> ImportReport:
    rows = conn.execute("SELECT count(*) FROM raw").fetchone()[0]
    if _has_table(conn, "unreadable"):
        rows += conn.execute("SELECT count(*) FROM unreadable").fetchone()[0]
    loaded = conn.execute("SELECT count(*) FROM stays").fetchone()[0]
    problems = conn.execute("SELECT line, column_name, reason FROM quarantine ORDER BY line LIMIT 20").fetchall()
    return ImportReport(path, rows, loaded, rows - loaded, [tuple(p) for p in problems], label)


def _write_meta(conn, path: Path, mapping: Mapping, report: ImportReport, extras: list[str]) -> None:
    meta = {"source": str(path), "mapping": mapping.to_dict(), "line_label": report.line_label,
            "rows": report.rows, "loaded": report.loaded, "quarantined": report.quarantined,
            "los_only": mapping.los_only, "extras": extras, "warnings": report.warnings,
            "length_unit": "hours" if mapping.columns.get("length") and mapping.length_unit != "days" else "days",
            "imported_at": datetime.now(timezone.utc).isoformat(timespec="seconds")}
    conn.execute("CREATE TABLE meta (key VARCHAR PRIMARY KEY, value VARCHAR)")
    conn.executemany("INSERT INTO meta VALUES (?, ?)", [(k, json.dumps(v)) for k, v in meta.items()])


class Dataset:
    """An imported dataset, opened read-only; ``cursor()`` gives each thread its own DuckDB cursor."""

    def __init__(self, path: Path):
        import duckdb

        self.path = Path(path)
        try:
            self._conn = duckdb.connect(str(self.path), read_only=True)
        except duckdb.Error as exc:
            raise MedStationError(f"the dataset {self.path.name} could not be opened: {exc}") from exc
        self.meta = {k: json.loads(v) for k, v in self._conn.execute("SELECT key, value FROM meta").fetchall()}
        self.units = [tuple(r) for r in self._conn.execute(
            "SELECT unit, capacity, capacity_source FROM units ORDER BY unit").fetchall()]

    def cursor(self):
        return self._conn.cursor()

    @property
    def name(self) -> str:
        return Path(self.meta.get("source", self.path.stem)).name

    @property
    def length_unit(self) -> str:
        return self.meta.get("length_unit", "days")

    @property
    def los_only(self) -> bool:
        """A table of lengths of stay without dates: distributions, LOS model and drivers; no census or forecast."""
        return bool(self.meta.get("los_only"))

    @property
    def extras(self) -> list[str]:
        """Source columns kept as extra LOS-model features (length-of-stay-only tables), stored as x0, x1, ..."""
        return list(self.meta.get("extras", []))

    @property
    def short_episodes(self) -> bool:
        """Episodes measured in hours (tests, visits): census counts those active during the day."""
        return self.length_unit == "hours"

    @property
    def length_scale(self) -> float:
        return 3600.0 if self.short_episodes else 86400.0

    def summary(self):
        from medstation.core.resources.analytics import summarise

        return summarise(self.cursor(), self.units, active=self.short_episodes)

    def quarantine(self, limit: int | None = None) -> list[tuple[int, str, str]]:
        sql = "SELECT line, column_name, reason FROM quarantine ORDER BY line, column_name"
        if limit:
            sql += f" LIMIT {int(limit)}"
        return [tuple(r) for r in self.cursor().execute(sql).fetchall()]

    def close(self) -> None:
        self._conn.close()
