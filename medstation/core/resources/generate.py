"""A seeded generator of a realistic general hospital's admissions, transfers and discharges.

The Resources pane ships no real ADT feed (none is publicly licensed), so this generator is its sample hospital.
Every parameter below is a plain, documented constant; the values are chosen to reproduce patterns reported in
public sources rather than any one hospital:

* Units and capacities: a 170-bed acute hospital with medical, surgical, orthopaedic, cardiology, intensive
  care, maternity and paediatric units. General-and-acute occupancy is aimed at ~76% on average at midnight (daytime, weekday and winter peaks reach 90-100%, with some boarding) (NHS England KH03 bed
  availability and occupancy returns report ~88-92% for general and acute beds; Bagust et al., BMJ 1999, show
  risk of bed crises above ~85%). Arrival rates are derived from capacity x target occupancy / mean LOS.
* Length of stay: log-normal per unit and admission type (LOS is right-skewed; Marazzi et al., Stat Med 1998,
  found log-normal a good fit). Mean acute LOS ~4-5 days (AHRQ HCUP Statistical Brief #246: 4.6 days, US 2016);
  ICU median ~2-3 days; elective surgery shorter than emergency; maternity ~1.5-2.5 days. Older age lengthens
  stays (about +0.8% per year over 50, in line with HCUP age gradients).
* Arrival seasonality: emergency admissions peak late morning to early evening and fall to a trough around
  04:00-06:00, busiest on Mondays and quietest at weekends (McCarthy et al., Acad Emerg Med 2008; NHS A&E
  attendance by hour); elective admissions arrive mostly 07:00-10:00 (all by 16:00) on weekdays. Winter months carry ~10% more
  emergency admissions than summer (NHS winter pressures).
* Discharges happen mostly 10:00-18:00, and about a third of weekend discharges slip to Monday (the "weekend
  effect" in discharge timing, e.g. Wong et al., BMJ Open 2012 on weekend discharge rates).
* Transfers: 12% of emergency medical and cardiology admissions start in intensive care for a log-normal
  ~2-day stay before stepping down; 10% of elective surgical admissions go from theatre to ICU for one night, then to the ward.

Each row is one stay in one unit; rows of the same encounter share ``encounter_id`` and carry the encounter's
number of transfers. Stays still in progress at the end of the simulated period have no discharge time.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from pathlib import Path

import numpy as np


@dataclass(frozen=True)
class Unit:
    name: str
    capacity: int
    types: dict[str, float]  # admission type -> share of this unit's admissions
    los: dict[str, tuple[float, float]]  # admission type -> (median days, log-normal sigma)
    age: tuple[float, float, float, float]  # mean, sd, min, max
    female: float
    diagnoses: tuple[str, ...]


UNITS: tuple[Unit, ...] = (
    Unit("Medicine A", 32, {"emergency": 0.9, "urgent": 0.1}, {"emergency": (4.0, 0.85), "urgent": (3.0, 0.8)},
         (71, 15, 18, 102), 0.52, ("respiratory", "infection", "frailty", "renal", "gastro")),
    Unit("Medicine B", 28, {"emergency": 0.85, "urgent": 0.15}, {"emergency": (3.6, 0.85), "urgent": (2.8, 0.8)},
         (66, 17, 18, 102), 0.5, ("respiratory", "infection", "diabetes", "gastro", "neurology")),
    Unit("Surgery", 30, {"emergency": 0.45, "elective": 0.55}, {"emergency": (3.5, 0.8), "elective": (2.0, 0.7)},
         (57, 17, 18, 95), 0.48, ("general surgery", "hernia", "colorectal", "hepatobiliary")),
    Unit("Orthopaedics", 22, {"emergency": 0.55, "elective": 0.45},
         {"emergency": (5.5, 0.75), "elective": (2.5, 0.55)}, (68, 17, 18, 101), 0.6,
         ("hip fracture", "joint replacement", "trauma", "spine")),
    Unit("Cardiology", 18, {"emergency": 0.8, "elective": 0.2}, {"emergency": (3.0, 0.8), "elective": (1.2, 0.6)},
         (69, 13, 25, 99), 0.4, ("acute coronary", "heart failure", "arrhythmia")),
    Unit("ICU", 12, {"emergency": 1.0}, {"emergency": (2.5, 0.9)}, (61, 16, 18, 95), 0.42,
         ("sepsis", "respiratory failure", "post-operative", "cardiac arrest")),
    Unit("Maternity", 16, {"emergency": 0.75, "elective": 0.25}, {"emergency": (1.8, 0.5), "elective": (2.2, 0.4)},
         (31, 5.5, 16, 48), 1.0, ("delivery", "caesarean", "antenatal")),
    Unit("Paediatrics", 14, {"emergency": 0.9, "elective": 0.1}, {"emergency": (1.6, 0.8), "elective": (1.0, 0.5)},
         (6, 5, 0, 17), 0.46, ("respiratory", "infection", "gastro", "neurology")),
)
TARGET_OCCUPANCY = 0.76
ICU_DIRECT_SHARE = 0.5  # the rest of ICU's bed days come from stepped stays of other units
AGE_EFFECT = 0.008  # proportional LOS change per year of age over 50
# relative arrival intensity by hour (0-23), emergency and elective
EMERGENCY_HOURS = np.array([2.2, 1.8, 1.5, 1.3, 1.1, 1.1, 1.4, 2.2, 3.4, 4.6, 5.5, 5.9, 5.9, 5.7, 5.5, 5.4,
                            5.4, 5.5, 5.4, 5.0, 4.4, 3.7, 3.1, 2.6])
ELECTIVE_HOURS = np.array([0, 0, 0, 0, 0, 0, 0.5, 4, 6, 4, 2, 1, 0.6, 0.4, 0.3, 0.2, 0, 0, 0, 0, 0, 0, 0, 0.0])
EMERGENCY_WEEKDAY = np.array([1.12, 1.04, 1.01, 1.0, 1.0, 0.93, 0.9])  # Monday .. Sunday
ELECTIVE_WEEKDAY = np.array([1.3, 1.3, 1.25, 1.25, 1.15, 0.05, 0.0])
WINTER_AMPLITUDE = 0.10
DISCHARGE_HOURS = np.array([0.3, 0.2, 0.1, 0.1, 0.1, 0.1, 0.2, 0.4, 0.8, 1.6, 3.0, 4.2, 5.0, 5.2, 5.0, 4.6,
                            4.0, 3.2, 2.4, 1.6, 1.2, 0.9, 0.6, 0.4])
WEEKEND_SLIP = 0.35  # share of Saturday/Sunday discharges that slip to Monday
ICU_FIRST = {"Medicine A": 0.12, "Medicine B": 0.12, "Cardiology": 0.12}  # emergency admissions via ICU first
ICU_AFTER_ELECTIVE = {"Surgery": 0.10}
ICU_STEP = (2.0, 0.7)  # ICU part of a stepped stay: median days, sigma


def _mean_los(unit: Unit) -> float:
    return sum(share * med * np.exp(sig ** 2 / 2) for t, share in unit.types.items()
               for med, sig in [unit.los[t]]) * (1 + AGE_EFFECT * max(unit.age[0] - 50, 0))


def _arrival_times(rng: np.random.Generator, start: date, days: int, per_day: float, kind: str) -> np.ndarray:
    """Arrival datetimes (numpy datetime64[s]) for one unit and admission type over ``days`` days."""
    day_index = np.arange(days)
    dates = np.datetime64(start) + day_index.astype("timedelta64[D]")
    weekday = (day_index + start.weekday()) % 7
    week = EMERGENCY_WEEKDAY if kind != "elective" else ELECTIVE_WEEKDAY
    doy = (dates - dates.astype("datetime64[Y]")).astype(int)
    season = 1 + (WINTER_AMPLITUDE * np.cos(2 * np.pi * doy / 365.25) if kind != "elective" else 0)
    counts = rng.poisson(per_day * week[weekday] / week.mean() * season)
    hours_p = (ELECTIVE_HOURS if kind == "elective" else EMERGENCY_HOURS)
    hours = rng.choice(24, size=counts.sum(), p=hours_p / hours_p.sum())
    seconds = hours * 3600 + rng.integers(0, 3600, counts.sum())
    return np.repeat(dates, counts).astype("datetime64[s]") + seconds.astype("timedelta64[s]")


def _discharge(rng: np.random.Generator, admit: np.ndarray, los_days: np.ndarray) -> np.ndarray:
    """Put each discharge on the day its length of stay ends, at a daytime hour; some weekend ones slip."""
    raw = admit + (los_days * 86400).astype("timedelta64[s]")
    day = raw.astype("datetime64[D]")
    weekday = (day.astype(int) + 3) % 7  # 1970-01-01 was a Thursday
    slip = (weekday >= 5) & (rng.random(len(day)) < WEEKEND_SLIP)
    day = day + np.where(slip, 7 - weekday, 0).astype("timedelta64[D]")
    hours = rng.choice(24, size=len(day), p=DISCHARGE_HOURS / DISCHARGE_HOURS.sum())
    out = day.astype("datetime64[s]") + (hours * 3600 + rng.integers(0, 3600, len(day))).astype("timedelta64[s]")
    return np.maximum(out, admit + np.timedelta64(3600, "s"))


def _unit_stays(rng, unit: Unit, start: date, days: int) -> dict[str, np.ndarray]:
    per_day = TARGET_OCCUPANCY * unit.capacity / _mean_los(unit)
    if unit.name == "ICU":
        per_day *= ICU_DIRECT_SHARE
    parts: dict[str, list] = {k: [] for k in ("admit", "los", "type", "age", "sex", "dx")}
    for kind, share in unit.types.items():
        admit = _arrival_times(rng, start, days, per_day * share, kind)
        n = len(admit)
        mean, sd, lo, hi = unit.age
        age = np.clip(rng.normal(mean, sd, n), lo, hi).round()
        median, sigma = unit.los[kind]
        los = rng.lognormal(np.log(median), sigma, n) * (1 + AGE_EFFECT * np.clip(age - 50, 0, None))
        parts["admit"].append(admit)
        parts["los"].append(los)
        parts["type"].append(np.full(n, kind, dtype=object))
        parts["age"].append(age)
        parts["sex"].append(np.where(rng.random(n) < unit.female, "F", "M").astype(object))
        parts["dx"].append(rng.choice(np.array(unit.diagnoses, dtype=object), n))
    return {k: np.concatenate(v) for k, v in parts.items()}


def _split_icu(rng, unit: Unit, s: dict[str, np.ndarray]) -> tuple[dict, dict]:
    """Stays that pass through ICU become two rows: (ICU part, ward part) with the ICU part first or last."""
    n = len(s["admit"])
    p_first, p_after = ICU_FIRST.get(unit.name, 0.0), ICU_AFTER_ELECTIVE.get(unit.name, 0.0)
    first = (s["type"] == "emergency") & (rng.random(n) < p_first)
    after = (s["type"] == "elective") & (rng.random(n) < p_after)
    icu_days = np.where(first, rng.lognormal(np.log(ICU_STEP[0]), ICU_STEP[1], n), 1.0)
    return {"first": first, "after": after, "icu_days": icu_days}, s


def generate(days: int = 365, seed: int = 7, start: date | None = None):
    """A DataFrame of unit stays for ``days`` days of the sample hospital (deterministic for a seed)."""
    import pandas as pd

    rng = np.random.default_rng(seed)
    start = start or date(2024, 1, 1)
    frames = []
    next_id = 0
    for unit in UNITS:
        s = _unit_stays(rng, unit, start, days)
        icu, s = _split_icu(rng, unit, s)
        n = len(s["admit"])
        ids = np.arange(next_id, next_id + n)
        next_id += n
        stepped = icu["first"] | icu["after"]
        ward_admit = s["admit"].copy()
        icu_td = (icu["icu_days"] * 86400).astype("timedelta64[s]")
        ward_admit[icu["first"]] = s["admit"][icu["first"]] + icu_td[icu["first"]]
        ward_end = _discharge(rng, ward_admit, s["los"])
        icu_admit = np.where(icu["first"], s["admit"], ward_end)
        icu_end = np.where(icu["first"], ward_admit, ward_end + icu_td)
        if icu["after"].any():  # post-operative ICU night straight from theatre, then the ward
            icu_admit[icu["after"]] = s["admit"][icu["after"]]
            icu_end[icu["after"]] = icu_admit[icu["after"]] + icu_td[icu["after"]]
            ward_admit[icu["after"]] = icu_end[icu["after"]]
            ward_end[icu["after"]] = np.maximum(ward_end[icu["after"]], ward_admit[icu["after"]]
                                                + np.timedelta64(3600, "s"))
        common = {"encounter_id": ids, "age": s["age"], "sex": s["sex"], "admission_type": s["type"],
                  "diagnosis_group": s["dx"], "transfers": stepped.astype(int)}
        ward = pd.DataFrame({**common, "admit_time": ward_admit, "discharge_time": ward_end, "unit": unit.name})
        icu_rows = pd.DataFrame({k: v[stepped] for k, v in common.items()})
        icu_rows["admit_time"], icu_rows["discharge_time"] = icu_admit[stepped], icu_end[stepped]
        icu_rows["unit"] = "ICU"
        frames += [ward, icu_rows]
    frame = pd.concat(frames, ignore_index=True)
    return _finish(frame, rng, start, days)


def _finish(frame, rng, start: date, days: int):
    """Order by time, censor stays running past the end, assign encounter/patient ids and beds, add capacities."""
    end = np.datetime64(start) + np.timedelta64(days, "D")
    frame = frame[frame["admit_time"].to_numpy() < end].sort_values("admit_time", kind="stable")
    frame = frame.reset_index(drop=True)
    open_ = frame["discharge_time"].to_numpy() >= end
    frame["discharge_time"] = frame["discharge_time"].astype("datetime64[s]").where(~open_)
    codes, uniques = np.unique(frame["encounter_id"].to_numpy(), return_inverse=True)
    frame["encounter_id"] = [f"E{c:07d}" for c in uniques]
    frame["patient_id"] = [f"P{c:07d}" for c in rng.integers(0, max(len(codes) * 3 // 4, 1), len(frame))]
    capacity = {u.name: u.capacity for u in UNITS}
    frame["bed"] = _assign_beds(frame, capacity)
    frame["unit_capacity"] = frame["unit"].map(capacity).astype(int)
    order = ["encounter_id", "patient_id", "admit_time", "discharge_time", "unit", "bed", "transfers", "age",
             "sex", "admission_type", "diagnosis_group", "unit_capacity"]
    return frame[order]


def _assign_beds(frame, capacity: dict[str, int]) -> list[str]:
    """First free bed in the unit at admission (beds free up at discharge); 'overflow' when the unit is full."""
    import heapq

    admit = frame["admit_time"].to_numpy().astype("datetime64[s]").astype(np.int64)
    disc = frame["discharge_time"].to_numpy().astype("datetime64[s]")
    disc = np.where(np.isnat(disc), np.iinfo(np.int64).max, disc.astype(np.int64))
    busy: dict[str, list] = {u: [] for u in capacity}
    free: dict[str, list] = {u: list(range(1, c + 1)) for u, c in capacity.items()}
    beds = []
    for unit, a, d in zip(frame["unit"].to_numpy(), admit, disc):
        heap, spare = busy[unit], free[unit]
        while heap and heap[0][0] <= a:
            heapq.heappush(spare, heapq.heappop(heap)[1])
        if spare:
            bed = heapq.heappop(spare)
            heapq.heappush(heap, (d, bed))
            beds.append(f"{unit[:3].upper()}-{bed:02d}")
        else:
            beds.append("overflow")
    return beds


def write(frame, path: Path) -> Path:
    """Write generated stays as CSV (ISO times) or Parquet, by the file's suffix."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    if path.suffix.lower() == ".parquet":
        frame.to_parquet(path, index=False)
    else:
        frame.to_csv(path, index=False, date_format="%Y-%m-%d %H:%M:%S")
    return path


def days_for(encounters: int) -> int:
    """Days of history that give roughly ``encounters`` admissions (for benchmarks)."""
    per_day = sum(TARGET_OCCUPANCY * u.capacity / _mean_los(u) * (ICU_DIRECT_SHARE if u.name == "ICU" else 1)
                  for u in UNITS)
    return max(1, int(encounters / per_day) + 1)


def describe() -> list[tuple[str, int]]:
    return [(u.name, u.capacity) for u in UNITS]


__all__ = ["UNITS", "generate", "write", "days_for", "describe"]
