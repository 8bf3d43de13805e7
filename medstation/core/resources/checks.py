"""A column mapping checked against the data before anything is drawn: a time column must hold dates/times in
most rows (a 0/1 flag or a length of stay is not an admit time), a length must be numbers, a unit column of many
numbers is questioned; and the extra columns a length-of-stay-only table offers the LOS model."""
from __future__ import annotations

from pathlib import Path

from medstation.core.errors import MedStationError
from medstation.core.resources.mapping import Mapping
from medstation.core.resources.store import _ident, _reader, _time_expr

MOST = 0.5  # a time column must parse for more than this share of its non-empty sampled values
SAMPLE = 5000
MAX_EXTRAS = 20


def _column_stats(conn, table: str, column: str, kind: str, day_numbers: bool) -> dict:
    """Non-empty values, how many parse as date/time and as numbers, distinct count and a few examples."""
    col = _ident(column)
    text = f"NULLIF(TRIM(CAST({col} AS VARCHAR)), '')"
    when = "TRY_CAST(v AS DOUBLE) IS NOT NULL" if day_numbers else f"{_time_expr('v', False, '2000-01-01', kind)} IS NOT NULL"
    row = conn.execute(f"""
        WITH s AS (SELECT {col} AS v, {text} AS t FROM (SELECT * FROM {table} LIMIT {SAMPLE}))
        SELECT count(t), count(t) FILTER (WHERE {when}), count(t) FILTER (WHERE TRY_CAST(t AS DOUBLE) IS NOT NULL),
               count(DISTINCT t), count(t) FILTER (WHERE TRY_CAST(t AS DOUBLE) <> round(TRY_CAST(t AS DOUBLE))),
               list(DISTINCT t ORDER BY t)[:4]
        FROM s""").fetchone()
    return {"n": row[0], "times": row[1], "numbers": row[2], "distinct": row[3], "fractions": row[4],
            "examples": ", ".join(str(v) for v in (row[5] or []))}


def mapping_problems(conn, table: str, mapping: Mapping) -> tuple[list[tuple[str, str]], list[str]]:
    """Check a mapping against the data in ``table`` before anything is drawn: ([(field, sentence)] that refuse
    it, [sentence] that question it). A time column must hold dates/times in most rows (a 0/1 flag or a length
    of stay is not an admit time); a length must be numbers; a unit column of many numbers is questioned."""
    from medstation.core.resources.mapping import FIELDS

    kinds = {name: str(kind).upper() for name, kind, *_ in conn.execute(f"DESCRIBE {table}").fetchall()}
    refusals, doubts = [], []
    for fld in ("admit_time", "discharge_time", "length", "unit"):
        column = mapping.columns.get(fld)
        if not column or column not in kinds:
            continue
        stats = _column_stats(conn, table, column, kinds[column], mapping.day_numbers)
        label = FIELDS[fld][0].split(" (")[0].lower()
        if not stats["n"]:
            continue
        if fld in ("admit_time", "discharge_time") and stats["times"] <= MOST * stats["n"]:
            what = "day numbers" if mapping.day_numbers else "dates/times"
            numbers = (" (numbers, such as a flag or a length of stay)"
                       if stats["numbers"] == stats["n"] and not mapping.day_numbers else "")
            refusals.append((fld, f"column '{column}' cannot be the {label}: only {stats['times']:,} of "
                                  f"{stats['n']:,} sampled values are {what}; it holds {stats['examples']} ..."
                                  f"{numbers}"))
        elif fld == "length" and stats["numbers"] <= MOST * stats["n"]:
            refusals.append((fld, f"column '{column}' cannot be the length of stay: only {stats['numbers']:,} of "
                                  f"{stats['n']:,} sampled values are numbers"))
        elif fld == "unit" and stats["numbers"] >= 0.9 * stats["n"] and (stats["distinct"] >= 100 or
                                                                          stats["fractions"]):
            doubts.append(f"column '{column}' is mapped as the unit but holds {stats['distinct']:,} different "
                          f"numbers (such as {stats['examples']}): check that it names units")
    return refusals, doubts


def refuse(path: Path, refusals: list[tuple[str, str]]) -> None:
    """Raise the first refusal of ``mapping_problems`` as the sentence the user sees."""
    if refusals:
        raise MedStationError(f"{Path(path).name}: {refusals[0][1]}", kept="nothing was imported; map another "
                              "column (or none, for a table without dates)")


def check_mapping(path: Path, mapping: Mapping) -> tuple[list[tuple[str, str]], list[str]]:
    """``mapping_problems`` on the first rows of ``path`` (CSV/TSV or Parquet; FHIR bundles have fixed fields)."""
    import duckdb

    path = Path(path)
    if path.suffix.lower() == ".json":
        return [], []
    conn = duckdb.connect()
    try:
        conn.execute(f"CREATE TABLE sample AS SELECT * FROM {_reader(path)} LIMIT {SAMPLE}")
        return mapping_problems(conn, "sample", mapping)
    except duckdb.Error as exc:
        raise MedStationError(f"{path.name} could not be read as a table: {str(exc).splitlines()[0]}") from exc
    finally:
        conn.close()


def extra_columns(conn, mapping: Mapping) -> list[str]:
    """Columns a length-of-stay-only table offers the LOS model beyond the mapped fields: every unmapped column
    with at most 60 different values (codes, flags) or of numbers that are not a row id (all different)."""
    if not mapping.los_only:
        return []
    used = set(mapping.columns.values())
    total = conn.execute("SELECT count(*) FROM raw").fetchone()[0]
    keep = []
    for name in [d[0] for d in conn.execute("SELECT * FROM raw LIMIT 0").description]:
        if name in used or name == "row_no":
            continue
        stats = _column_stats(conn, "raw", name, "VARCHAR", True)
        if stats["distinct"] <= 60 or (stats["numbers"] == stats["n"] and stats["distinct"] < max(total, 1) * 0.9):
            keep.append(name)
    return keep[:MAX_EXTRAS]
