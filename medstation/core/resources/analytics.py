"""What the dashboards show, computed in DuckDB: daily census by unit against capacity, admissions and discharges
per day, arrivals by weekday x hour, length of stay by unit and admission type, and a snapshot of "now".

Census is the midnight census: a stay counts on day d when it began before the end of d and had not ended by then.
For short episodes measured in hours (the covid_testing fixture) it is the number active at any time of the day.
Daily series are computed once per dataset (``Summary``) as dense unit x day arrays, so a filter change is a slice.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

import numpy as np

WEEKDAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")


def census_sql(table: str = "stays", active: bool = False) -> str:
    """Census per unit for every day with an admission or discharge (running sum of +1/-1 events).

    Midnight census by default; ``active`` counts every stay present at any time of the day instead, which is what
    short episodes measured in hours (tests, clinic visits) need.
    """
    shift = " + 1" if active else ""
    return f"""
        WITH ev AS (
            SELECT unit, CAST(admit AS DATE) AS day, 1 AS delta FROM {table}
            UNION ALL
            SELECT unit, CAST(discharge AS DATE){shift}, -1 FROM {table} WHERE discharge IS NOT NULL),
        agg AS (SELECT unit, day, SUM(delta) AS delta FROM ev GROUP BY unit, day)
        SELECT unit, day, SUM(delta) OVER (PARTITION BY unit ORDER BY day) AS census FROM agg"""


@dataclass
class Summary:
    """Dense daily series: arrays are [unit, day]; ``days`` are numpy datetime64[D]."""

    units: list[str]
    capacity: np.ndarray
    capacity_source: list[str]
    days: np.ndarray
    census: np.ndarray
    admissions: np.ndarray
    discharges: np.ndarray
    as_of: datetime
    census_kind: str = "midnight"  # midnight | active during the day

    def unit_index(self, units: list[str] | None) -> np.ndarray:
        if not units:
            return np.arange(len(self.units))
        return np.array([self.units.index(u) for u in units if u in self.units], dtype=int)

    def window(self, start: date | None, end: date | None) -> slice:
        lo = 0 if start is None else int(np.searchsorted(self.days, np.datetime64(start, "D")))
        hi = len(self.days) if end is None else int(np.searchsorted(self.days, np.datetime64(end, "D"), "right"))
        return slice(lo, hi)

    def series(self, units: list[str] | None, start: date | None = None, end: date | None = None) -> dict:
        """Totals over the chosen units in the date window: census, capacity, admissions, discharges."""
        idx, win = self.unit_index(units), self.window(start, end)
        return {"days": self.days[win], "census": self.census[idx, win].sum(0),
                "capacity": float(self.capacity[idx].sum()), "admissions": self.admissions[idx, win].sum(0),
                "discharges": self.discharges[idx, win].sum(0)}


def _dense(result: dict, units: list[str], days: np.ndarray, first: np.datetime64, fill_forward: bool) -> np.ndarray:
    """Scatter (unit, day, value) columns (numpy, from DuckDB) into a [unit, day] array."""
    import pandas as pd

    out = np.zeros((len(units), len(days)), dtype=np.int64)
    if not len(result["v"]):
        return out
    u = pd.Categorical(result["unit"], categories=units).codes.astype(np.int64)
    d = (np.asarray(result["day"]).astype("datetime64[D]") - first).astype(np.int64)
    v = np.asarray(result["v"], dtype=np.int64)
    keep = (d >= 0) & (d < len(days)) & (u >= 0)
    if not fill_forward:
        out[u[keep], d[keep]] = v[keep]
        return out
    marks = np.full(out.shape, -1, dtype=np.int64)
    marks[u[keep], d[keep]] = np.arange(keep.sum())
    idx = np.maximum.accumulate(marks, axis=1)
    return np.where(idx >= 0, v[keep][np.clip(idx, 0, None)], 0)


def summarise(cursor, unit_rows: list[tuple], active: bool = False) -> Summary:
    """Build the dense daily census / admissions / discharges of a dataset (one pass of SQL each)."""
    units = [r[0] for r in unit_rows]
    first, last_admit, last_disc = cursor.execute(
        "SELECT MIN(admit)::DATE, MAX(admit), MAX(discharge) FROM stays").fetchone()
    if first is None:
        empty = np.zeros((len(units), 0), dtype=np.int64)
        return Summary(units, np.array([r[1] for r in unit_rows], float), [r[2] for r in unit_rows],
                       np.array([], dtype="datetime64[D]"), empty, empty, empty, datetime.now())
    as_of = last_admit  # "now" is the last arrival the data knows of
    first64 = np.datetime64(first, "D")
    days = np.arange(first64, np.datetime64(as_of.date(), "D") + 1)
    census = _dense(cursor.execute(f"SELECT unit, day, census AS v FROM ({census_sql('stays', active)})")
                    .fetchnumpy(), units, days, first64, True)
    adm = _dense(cursor.execute("SELECT unit, CAST(admit AS DATE) AS day, count(*) AS v FROM stays GROUP BY ALL")
                 .fetchnumpy(), units, days, first64, False)
    dis = _dense(cursor.execute("SELECT unit, CAST(discharge AS DATE) AS day, count(*) AS v FROM stays "
                                "WHERE discharge IS NOT NULL GROUP BY ALL").fetchnumpy(), units, days, first64, False)
    return Summary(units, np.array([r[1] for r in unit_rows], float), [r[2] for r in unit_rows], days, census,
                   adm, dis, as_of, "active during the day" if active else "midnight")


def _where(units: list[str] | None, start: date | None, end: date | None) -> tuple[str, list]:
    sql, args = ["1=1"], []
    if units:
        sql.append("unit IN (" + ",".join("?" * len(units)) + ")")
        args += list(units)
    if start:
        sql.append("admit >= ?")
        args.append(datetime.combine(start, datetime.min.time()))
    if end:
        sql.append("admit < ? + INTERVAL 1 DAY")
        args.append(datetime.combine(end, datetime.min.time()))
    return " AND ".join(sql), args


def arrivals_heatmap(cursor, units=None, start=None, end=None) -> np.ndarray:
    """Arrivals (new encounters, not transfers) as a 7 x 24 array: rows Monday..Sunday, columns hour 0..23."""
    where, args = _where(units, start, end)
    rows = cursor.execute(f"""SELECT isodow(admit) - 1, hour(admit), count(*) FROM stays
                              WHERE first_stay AND {where} GROUP BY ALL""", args).fetchall()
    grid = np.zeros((7, 24), dtype=np.int64)
    for dow, hour, n in rows:
        grid[int(dow), int(hour)] = n
    return grid


@dataclass
class LosGroup:
    group: str
    n: int
    mean: float
    p5: float
    q1: float
    median: float
    q3: float
    p95: float


def los_by(cursor, by: str, units=None, start=None, end=None, scale: float = 86400.0) -> list[LosGroup]:
    """Length of each completed stay in a unit, summarised by ``unit`` or ``admission_type`` (in days or hours)."""
    if by not in ("unit", "admission_type"):
        raise ValueError(by)
    where, args = _where(units, start, end)
    rows = cursor.execute(f"""
        WITH l AS (SELECT {by} AS g, length_s / {scale} AS los FROM stays
                   WHERE length_s IS NOT NULL AND {where})
        SELECT g, count(*), avg(los), quantile_cont(los, [0.05, 0.25, 0.5, 0.75, 0.95]) FROM l
        GROUP BY g ORDER BY g""", args).fetchall()
    return [LosGroup(str(g), int(n), float(m), *map(float, q)) for g, n, m, q in rows]


@dataclass
class Snapshot:
    as_of: datetime
    census: int
    capacity: float
    occupancy: float  # 0..1 (can exceed 1 when units board patients)
    free_beds: int
    expected_discharges_24h: float


def snapshot(cursor, summary: Summary, units=None, horizon_h: float = 24.0) -> Snapshot:
    """Who is in at the dataset's last event, and how many of them are expected home within ``horizon_h`` hours.

    Expected discharges sum, over patients in now, P(LOS <= t + h | LOS > t) from the completed stays of the
    same unit and admission type (the empirical conditional discharge probability), t being time in so far.
    """
    as_of = summary.as_of
    where, args = _where(units, None, None)
    inside = cursor.execute(f"""SELECT unit, admission_type, epoch(? - admit) / 3600 FROM stays
        WHERE {where} AND admit <= ? AND (discharge IS NULL OR discharge > ?)""",
                            [as_of, *args, as_of, as_of]).fetchall()
    done = cursor.execute(f"""SELECT unit, admission_type, list(epoch(discharge - admit) / 3600 ORDER BY 1)
        FROM stays WHERE discharge IS NOT NULL AND discharge <= ? AND {where} GROUP BY ALL""",
                          [as_of, *args]).fetchall()
    history = {(u, t): np.sort(np.asarray(v, float)) for u, t, v in done}
    expected = sum(_p_discharge(history.get((u, t)), float(h), horizon_h) for u, t, h in inside)
    capacity = float(summary.capacity[summary.unit_index(units)].sum())
    n = len(inside)
    return Snapshot(as_of, n, capacity, n / capacity if capacity else 0.0, int(max(capacity - n, 0)),
                    float(expected))


def _p_discharge(los_hours: np.ndarray | None, t: float, h: float) -> float:
    if los_hours is None or len(los_hours) == 0:
        return 0.0
    longer = len(los_hours) - np.searchsorted(los_hours, t, "right")
    if longer == 0:
        return 1.0  # in longer than anyone before: assume imminent
    within = np.searchsorted(los_hours, t + h, "right") - np.searchsorted(los_hours, t, "right")
    return within / longer
