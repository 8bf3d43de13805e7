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
        return _str(concept["text"])
    if concept.get("display") or concept.get("code"):
        return _str(concept.get("display") or concept.get("code"))
    return _text(concept.get("coding") or [])


def _age(birth: str | None, start: str | None) -> str | None:
    try:
        b, s = date.fromisoformat(birth[:10]), date.fromisoformat(start[:10])
    except (TypeError, ValueError):
        return None
    return str(s.year - b.year - ((s.month, s.day) < (b.month, b.day)))


def _obj(value) -> dict:
    """``value`` when it is a JSON object, else an empty one: exports put lists or strings where objects belong."""
    return value if isinstance(value, dict) else {}


def _items(value) -> list[dict]:
    """The objects of a JSON array (a lone object counts as a one-item array); anything else gives none."""
    if isinstance(value, dict):
        return [value]
    return [v for v in value if isinstance(v, dict)] if isinstance(value, list) else []


def _str(value) -> str | None:
    return None if value is None or isinstance(value, (dict, list)) else str(value)


def _patients(entries: list[dict]) -> dict[str, dict]:
    found = {}
    for entry in entries:
        res = _obj(entry.get("resource"))
        if res.get("resourceType") == "Patient":
            info = {"birth": _str(res.get("birthDate")), "sex": _str(res.get("gender"))}
            found[f"Patient/{_str(res.get('id'))}"] = info
            if isinstance(entry.get("fullUrl"), str):
                found[entry["fullUrl"]] = info
    return found


def _location_periods(res: dict) -> list[tuple[str | None, str | None, str | None, str | None]]:
    """(unit, bed, start, end) for each location of the encounter; the encounter period when none has one."""
    period = _obj(res.get("actualPeriod") or res.get("period"))
    out = []
    for loc in _items(res.get("location")):
        ref = _obj(loc.get("location"))
        name = _str(ref.get("display") or ref.get("reference"))
        kind = (_text(loc.get("physicalType") or loc.get("form")) or "").lower()
        lp = _obj(loc.get("period"))
        bed = name if kind in ("bd", "bed") else None
        out.append((None if bed else name, bed, _str(lp.get("start") or period.get("start")),
                    _str(lp.get("end") or period.get("end"))))
    wards = [o for o in out if o[0]]
    if not wards:
        unit = _text(res.get("serviceType")) or _str(_obj(res.get("serviceProvider")).get("display"))
        bed = next((o[1] for o in out if o[1]), None)
        return [(unit, bed, _str(period.get("start")), _str(period.get("end")))]
    beds = [o[1] for o in out if o[1]]
    return [(u, beds[0] if len(beds) == 1 else None, s, e) for u, _b, s, e in wards]


def _encounter_rows(index: int, res: dict, patients: dict) -> list[list]:
    subject = _str(_obj(res.get("subject")).get("reference"))
    person = patients.get(subject, {})
    cls = _text(res.get("class"))
    admit = _obj(res.get("hospitalization") or res.get("admission"))
    kind = _text(admit.get("admitSource")) if not cls else cls
    diagnosis = _items(res.get("diagnosis"))
    reason = _text(res.get("reasonCode") or res.get("reason")
                   or (diagnosis[0].get("condition") if diagnosis else None))
    stays = _location_periods(res)
    rows = []
    for unit, bed, start, end in stays:
        rows.append([index, _str(res.get("id")), subject.split("/")[-1] if subject else None, start, end, unit, bed,
                     str(len(stays) - 1), _age(person.get("birth"), start), person.get("sex"), kind, reason])
    return rows


def _documents(path: Path) -> list:
    """The JSON documents of a Bundle / resource file or of NDJSON, with a message naming the file when the bytes
    are not UTF-8 JSON."""
    name = Path(path).name
    raw = Path(path).read_bytes()
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = raw[:exc.start].count(b"\n") + 1
        raise MedStationError(f"{name} is not FHIR JSON: line {line}: byte {exc.start} is not UTF-8 text",
                              kept="nothing was imported") from exc
    if "\x00" in text:
        raise MedStationError(f"{name} is not FHIR JSON: it is a binary file", kept="nothing was imported")
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    ndjson = len(lines) > 1 and all(line.startswith("{") and line.endswith("}") for line in lines)
    number = 0
    try:
        if ndjson:
            docs = []
            for number, line in enumerate(lines, start=1):
                docs.append(json.loads(line))
            return docs
        return [json.loads(text)]
    except json.JSONDecodeError as exc:
        where = f"line {number}" if ndjson else f"line {exc.lineno}"
        raise MedStationError(f"{name} is not FHIR JSON: {where}: {exc.msg}", kept="nothing was imported") from exc
    except RecursionError as exc:
        raise MedStationError(f"{name} is not FHIR JSON: it is nested too deeply to read",
                              kept="nothing was imported") from exc


def _entries(path: Path, docs: list) -> list[dict]:
    entries = []
    for number, doc in enumerate(docs, start=1):
        if not isinstance(doc, dict):
            where = f" (line {number})" if len(docs) > 1 else ""
            raise MedStationError(f"{Path(path).name} is not a FHIR resource{where}: the JSON is "
                                  f"{type(doc).__name__ if doc is not None else 'null'}, not an object "
                                  "with a resourceType", kept="nothing was imported")
        if doc.get("resourceType") == "Bundle":
            entries += [e if isinstance(e, dict) else {} for e in (doc.get("entry") or [])] \
                if isinstance(doc.get("entry"), list) else []
        else:
            entries.append({"resource": doc})
    return entries


def encounters_frame(path: Path):
    """A DataFrame of text columns (COLUMNS) from a Bundle, a single Encounter, or NDJSON of Encounters.

    An Encounter too damaged to read is left out and named in ``frame.attrs["skipped"]``; when no Encounter could
    be read the file is refused with a message naming it and the damaged entries.
    """
    import pandas as pd

    name = Path(path).name
    entries = _entries(path, _documents(path))
    patients = _patients(entries)
    rows, skipped = [], []
    for index, entry in enumerate(entries, start=1):
        res = _obj(entry.get("resource"))
        if res.get("resourceType") != "Encounter":
            continue
        try:
            rows += _encounter_rows(index, res, patients)
        except (AttributeError, TypeError, ValueError, KeyError, IndexError, RecursionError) as exc:
            skipped.append(f"entry {index} (Encounter/{_str(res.get('id')) or '?'}): {exc.__class__.__name__}")
    if not rows:
        damaged = f"; damaged: {', '.join(skipped[:5])}" if skipped else ""
        raise MedStationError(f"{name} holds no readable FHIR Encounter resources{damaged}",
                              kept="nothing was imported")
    frame = pd.DataFrame(rows, columns=COLUMNS)
    frame["row_no"] = frame["row_no"].astype("int64")
    frame = frame.astype({c: "string" for c in COLUMNS[1:]})
    frame.attrs["skipped"] = skipped
    return frame
