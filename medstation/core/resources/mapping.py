"""Which column of an encounter file holds what: the canonical fields, a guess from the header, and a signature
under which the pane remembers the user's choice for files with the same header."""
from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass, field

# canonical field -> (label shown in the mapping dialog, required?)
FIELDS: dict[str, tuple[str, bool]] = {
    "admit_time": ("Admit / arrival time", True),
    "discharge_time": ("Discharge / end time", False),
    "length": ("Length of stay (instead of discharge time)", False),
    "length_2": ("Length, second part (added to the first)", False),
    "unit": ("Unit / ward / clinic", True),
    "encounter_id": ("Encounter id (rows of one stay share it)", False),
    "patient_id": ("Patient id", False),
    "bed": ("Bed", False),
    "transfers": ("Number of transfers", False),
    "age": ("Age (years)", False),
    "sex": ("Sex", False),
    "admission_type": ("Admission type / patient class", False),
    "diagnosis_group": ("Diagnosis group", False),
    "capacity": ("Unit capacity (beds)", False),
}

# words that suggest a field, most specific first; matched against normalised column names
_SYNONYMS: dict[str, tuple[str, ...]] = {
    "admit_time": ("admit_time", "admission_time", "admit_datetime", "admission_datetime", "admitted", "admit",
                   "admission_date", "arrival_time", "arrival", "collection_time", "start_time", "start", "pan_day",
                   "period_start"),
    "discharge_time": ("discharge_time", "discharge_datetime", "discharged", "discharge", "discharge_date",
                       "departure_time", "end_time", "end", "period_end"),
    "length": ("length_of_stay", "los_hours", "los_days", "los", "length", "duration", "col_rec_tat",
               "turnaround", "tat"),
    "length_2": ("rec_ver_tat",),
    "unit": ("unit", "ward", "department", "clinic_name", "clinic", "location", "service"),
    "encounter_id": ("encounter_id", "encounter", "visit_id", "admission_id", "stay_id", "hadm_id"),
    "patient_id": ("patient_id", "subject_id", "mrn", "patient"),
    "bed": ("bed", "bed_id", "bed_number"),
    "transfers": ("transfers", "n_transfers", "transfer_count", "transfers_count"),
    "age": ("age", "age_years", "age_at_admission"),
    "sex": ("sex", "gender"),
    "admission_type": ("admission_type", "admit_type", "patient_class", "encounter_class", "class", "type"),
    "diagnosis_group": ("diagnosis_group", "drg", "diagnosis", "dx_group", "primary_diagnosis", "specialty"),
    "capacity": ("capacity", "unit_capacity", "beds", "bed_capacity"),
}


def normalise(name: str) -> str:
    return re.sub(r"[^a-z0-9]+", "_", name.strip().lower()).strip("_")


@dataclass
class Mapping:
    """Canonical field -> source column, plus how to read times and lengths."""

    columns: dict[str, str] = field(default_factory=dict)
    length_unit: str = "days"  # days | hours | minutes: the unit of the length column(s)
    day_origin: str = "2020-01-01"  # date of day 1 when the admit column holds day numbers

    def to_dict(self) -> dict:
        return {"columns": dict(self.columns), "length_unit": self.length_unit, "day_origin": self.day_origin}

    @classmethod
    def from_dict(cls, data: dict) -> "Mapping":
        return cls(dict(data.get("columns", {})), data.get("length_unit", "days"),
                   data.get("day_origin", "2020-01-01"))

    def missing(self) -> list[str]:
        """Labels of the required fields that are not mapped (a length can stand in for the discharge time)."""
        return [FIELDS[f][0] for f, (_label, required) in FIELDS.items() if required and not self.columns.get(f)]


def guess(header: list[str]) -> Mapping:
    """Map each canonical field to the best-matching column; each column is used at most once."""
    normal = {normalise(c): c for c in header}
    used: set[str] = set()
    columns: dict[str, str] = {}
    for fld, words in _SYNONYMS.items():
        for word in words:
            hit = normal.get(word) or next((orig for norm, orig in normal.items()
                                            if orig not in used and len(word) > 3 and word in norm.split("_")), None)
            if hit and hit not in used:
                columns[fld] = hit
                used.add(hit)
                break
    unit = "days"
    length = normalise(columns.get("length", ""))
    if "hour" in length or "tat" in length.split("_") or length.endswith("_tat") or length == "tat":
        unit = "hours"
    elif "min" in length.split("_"):
        unit = "minutes"
    if "discharge_time" in columns and "length" in columns:
        columns.pop("length")
        columns.pop("length_2", None)
    return Mapping(columns, unit)


def signature(header: list[str]) -> str:
    """A short key for a header layout: files with the same columns reuse the remembered mapping."""
    text = "\x1f".join(sorted(normalise(c) for c in header))
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:16]
