"""FHIR Encounter bundles (R4 or R5 JSON) as stay rows: one row per location period, so transfers become stays.

Parsed as plain JSON, field by field, because exports in the wild mix R4 (``class`` a Coding, ``reasonCode``) and
R5 (``class`` a list of CodeableConcepts, ``reason``), and a strict model would reject whole bundles for one odd
element. Age and sex come from Patient resources in the same bundle when present.
"""
from __future__ import annotations

import json
from datetime import date
from pathlib import Path

from medstation.core.errors import MedStationError
from medstation.core.resources.mapping import Mapping

COLUMNS = ["row_no", "encounter_id", "patient_id", "admit_time", "discharge_time", "unit", "bed", "transfers",
           "age", "sex", "admission_type", "diagnosis_group"]
MAPPING = Mapping({c: c for c in COLUMNS[1:]})


def _text(concept) -> str | None:
    """Display text of a CodeableConcept, Coding or list of either (R4 and R5 shapes)."""
    if isinstance(concept, list):
        return next((t for t in map(_text, concept) if t), None)
    if not isinstance(concept, dict):
        return None
    if concept.get("concept"):  # R5 CodeableReference
        return _text(concept["concept"])
    if concept.get("text"):
        return concept["text"]
    if concept.get("display") or concept.get("code"):
        return concept.get("display") or concept.get("code")
    return _text(concept.get("coding") or [])


def _age(birth: str | None, start: str | None) -> str | None:
    try:
        b, s = date.fromisoformat(birth[:10]), date.fromisoformat(start[:10])
    except (TypeError, ValueError):
        return None
    return str(s.year - b.year - ((s.month, s.day) < (b.month, b.day)))


def _patients(entries: list[dict]) -> dict[str, dict]:
    found = {}
    for entry in entries:
        res = entry.get("resource") or {}
        if res.get("resourceType") == "Patient":
            info = {"birth": res.get("birthDate"), "sex": res.get("gender")}
            found[f"Patient/{res.get('id')}"] = info
            if entry.get("fullUrl"):
                found[entry["fullUrl"]] = info
    return found


def _location_periods(res: dict) -> list[tuple[str | None, str | None, str | None, str | None]]:
    """(unit, bed, start, end) for each location of the encounter; the encounter period when none has one."""
    period = res.get("actualPeriod") or res.get("period") or {}
    out = []
    for loc in res.get("location") or []:
        ref = loc.get("location") or {}
        name = ref.get("display") or ref.get("reference")
        kind = (_text(loc.get("physicalType") or loc.get("form")) or "").lower()
        lp = loc.get("period") or {}
        bed = name if kind in ("bd", "bed") else None
        out.append((None if bed else name, bed, lp.get("start") or period.get("start"), lp.get("end")
                    or period.get("end")))
    wards = [o for o in out if o[0]]
    if not wards:
        unit = _text(res.get("serviceType")) or (res.get("serviceProvider") or {}).get("display")
        bed = next((o[1] for o in out if o[1]), None)
        return [(unit, bed, period.get("start"), period.get("end"))]
    beds = [o[1] for o in out if o[1]]
    return [(u, beds[0] if len(beds) == 1 else None, s, e) for u, _b, s, e in wards]


def _encounter_rows(index: int, res: dict, patients: dict) -> list[list]:
    subject = (res.get("subject") or {}).get("reference")
    person = patients.get(subject, {})
    cls = _text(res.get("class"))
    admit = res.get("hospitalization") or res.get("admission") or {}
    kind = _text(admit.get("admitSource")) if not cls else cls
    reason = _text(res.get("reasonCode") or res.get("reason") or res.get("diagnosis", [{}])[0].get("condition")
                   if res.get("diagnosis") else res.get("reasonCode") or res.get("reason"))
    stays = _location_periods(res)
    rows = []
    for unit, bed, start, end in stays:
        rows.append([index, res.get("id"), subject.split("/")[-1] if subject else None, start, end, unit, bed,
                     str(len(stays) - 1), _age(person.get("birth"), start), person.get("sex"), kind, reason])
    return rows


def encounters_frame(path: Path):
    """A DataFrame of text columns (COLUMNS) from a Bundle, a single Encounter, or NDJSON of Encounters."""
    import pandas as pd

    text = Path(path).read_text(encoding="utf-8")
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    ndjson = len(lines) > 1 and all(line.startswith("{") and line.endswith("}") for line in lines)
    try:
        docs = [json.loads(line) for line in lines] if ndjson else [json.loads(text)]
    except json.JSONDecodeError as exc:
        where = f"line {lines.index(exc.doc.strip()) + 1}" if ndjson else f"line {exc.lineno}"
        raise MedStationError(f"{Path(path).name} is not FHIR JSON: {where}: {exc.msg}") from exc
    entries = []
    for doc in docs:
        if doc.get("resourceType") == "Bundle":
            entries += doc.get("entry") or []
        else:
            entries.append({"resource": doc})
    patients = _patients(entries)
    rows = []
    for index, entry in enumerate(entries, start=1):
        res = entry.get("resource") or {}
        if res.get("resourceType") == "Encounter":
            rows += _encounter_rows(index, res, patients)
    if not rows:
        raise MedStationError(f"{Path(path).name} holds no FHIR Encounter resources")
    frame = pd.DataFrame(rows, columns=COLUMNS)
    frame["row_no"] = frame["row_no"].astype("int64")
    return frame.astype({c: "string" for c in COLUMNS[1:]})
